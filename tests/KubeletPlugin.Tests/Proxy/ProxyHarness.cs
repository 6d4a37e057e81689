using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.Api.Validation;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Proxy;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.LocalCluster.Kubelet;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Tests.Proxy;

/// <summary>
/// The real proxy host (KubeletPluginHost + AddDriverProxy) on real Unix sockets, in front of a
/// <see cref="FakeVendorPlugin"/>, with the emulated kubelet watching the kubelet's registry. GPUs are the fake backend's
/// VRAM files; the vendor publishes them as <c>vgpu-a</c>, <c>vgpu-b</c>, … with NVIDIA's attributes.
/// </summary>
public sealed class ProxyHarness : IAsyncDisposable
{
    public const string Driver = TestClaims.Driver;
    public const string Node = TestClaims.Node;

    private ProxyHarness(TempDir dir, int gpus)
    {
        Dir = dir;
        Backend = new FakeGpuBackend(Path.Combine(dir.Path, "vram"), gpus);
        Scrubber = new FakeScrubber(Backend);
    }

    public TempDir Dir { get; }
    public string KubeletRegistry => Path.Combine(Dir.Path, "reg");
    public string KubeletPlugins => Path.Combine(Dir.Path, "plugins");
    public string VendorRegistry => Path.Combine(Dir.Path, "vreg");
    public string VendorPlugins => Path.Combine(Dir.Path, "vplug");
    public string StateDir => Path.Combine(Dir.Path, "state");
    public string VisibleRegistration => Path.Combine(KubeletRegistry, Driver + "-reg.sock");
    public InMemoryResourceApi Api { get; } = new();
    public FakeGpuBackend Backend { get; }
    public FakeScrubber Scrubber { get; }
    public RecordingEventRecorder Events { get; } = new();
    public FakeTaintWriter Taints { get; } = new();
    public ThrowingCrashInjector Crash { get; } = new();
    public SecureDra.Api.Config.Nvidia.NvidiaConfigPolicy Policy { get; private init; } = SecureDra.Api.Config.Nvidia.NvidiaConfigPolicy.Strict;
    public FakeVendorPlugin? Vendor { get; private set; }
    public WebApplication? App { get; private set; }
    public KubeletEmulator Kubelet { get; private set; } = null!;
    public ProxyOptions ProxyOptions { get; private set; } = null!;

    public DeviceInventory Inventory => App!.Services.GetRequiredService<DeviceInventory>();
    public ClaimJournal Journal => App!.Services.GetRequiredService<ClaimJournal>();
    public MetricsRegistry Metrics => App!.Services.GetRequiredService<MetricsRegistry>();
    public KubeletRegistrationGate Gate => App!.Services.GetRequiredService<KubeletRegistrationGate>();

    public static string VendorDevice(int gpu) => "vgpu-" + (char)('a' + gpu);

    public static async Task<ProxyHarness> StartAsync(int gpus = 2, Action<FakeVendorPlugin>? vendor = null, bool startVendor = true, Func<ProxyOptions, ProxyOptions>? proxy = null, KubeletProfile? profile = null, SecureDra.Api.Config.Nvidia.NvidiaConfigPolicy? policy = null)
    {
        var h = new ProxyHarness(TempDir.Create(), gpus) { Policy = policy ?? SecureDra.Api.Config.Nvidia.NvidiaConfigPolicy.Strict };
        Directory.CreateDirectory(h.StateDir);
        await File.WriteAllTextAsync(Path.Combine(h.Dir.Path, "boot_id"), "boot-1\n");
        await ProvenCleanCheckpoint.WriteAsync(h.StateDir, h.Backend.Devices, "boot-1");
        await h.Api.CreateSliceAsync(new ResourceSliceModel(
            null, null, Driver, Node, Node, 1, 1,
            [.. h.Backend.Devices.Select(d => new SliceDevice(
                VendorDevice(d.Index),
                new Dictionary<string, DeviceAttributeValue>
                {
                    ["uuid"] = DeviceAttributeValue.Of(d.Uuid),
                    ["resource.kubernetes.io/pciBusID"] = DeviceAttributeValue.Of(d.PciBusId![4..].ToLowerInvariant()),
                    ["type"] = DeviceAttributeValue.Of("gpu"),
                },
                new Dictionary<string, string>(),
                []))],
            GenerateName: "vendor-node-a-"), CancellationToken.None);
        if (startVendor)
        {
            await h.StartVendorAsync(vendor);
        }

        h.ProxyOptions = (proxy ?? (p => p))(new ProxyOptions
        {
            VendorRegistryDirectory = h.VendorRegistry,
            VendorPluginsDirectory = h.VendorPlugins,
            VendorProbeInterval = TimeSpan.FromMilliseconds(50),
            VendorCallTimeout = TimeSpan.FromSeconds(10),
        });
        await h.StartProxyAsync();
        h.Kubelet = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = h.KubeletRegistry, Profile = profile ?? KubeletProfile.V1_34 });
        h.Kubelet.Start();
        return h;
    }

    public async Task StartVendorAsync(Action<FakeVendorPlugin>? setup = null)
    {
        Vendor = await FakeVendorPlugin.StartAsync(VendorRegistry, VendorPlugins, setup);
    }

    public async Task StartProxyAsync()
    {
        var options = new KubeletPluginOptions
        {
            DriverName = Driver,
            NodeName = Node,
            KubeletRegistrarDirectoryPath = KubeletRegistry,
            KubeletPluginsDirectoryPath = KubeletPlugins,
            DataDirectoryOverride = StateDir,
            CdiRoot = Path.Combine(StateDir, "no-cdi"),
            DeferRegistration = true,
        };
        var pipeline = new ClaimPipelineOptions
        {
            BootIdPath = Path.Combine(Dir.Path, "boot_id"),
            SysfsRoot = Path.Combine(Dir.Path, "sys"),
            KubernetesMinorVersion = 35,
            ScrubRetryInitial = TimeSpan.FromMilliseconds(20),
            ScrubRetryMax = TimeSpan.FromMilliseconds(200),
        };
        var app = KubeletPluginHost.Build(options, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton<IResourceApi>(Api);
            builder.Services.AddSingleton<IKubeApiClient>(new FakeKubeApiClient());
            builder.Services.AddSingleton<IEventRecorder>(Events);
            builder.Services.AddSingleton<IGpuBackend>(Backend);
            builder.Services.AddSingleton<IVramScrubber>(Scrubber);
            builder.Services.AddSingleton<IGpuConfigValidator>(new FakeConfigValidator());
            builder.Services.AddSingleton<SecureDra.Kube.Taints.IDeviceTaintRuleWriter>(Taints);
            builder.Services.AddSingleton<IVendorConfigCheck>(new NvidiaVendorConfigCheck(new SecureDra.Api.Config.Nvidia.NvidiaOpaqueConfigValidator(new GpuConfigLimits()), Policy));
            builder.Services.AddDriverProxy(ProxyOptions, pipeline);
            builder.Services.AddSingleton<ICrashInjector>(Crash);
        });
        await app.StartAsync();
        App = app;
    }

    public async Task StopProxyAsync()
    {
        if (App is { } app)
        {
            App = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// Arms a crash at <paramref name="point"/>: the state directory's files are copied at that instant, as kill -9 would
    /// leave them (the injected exception lets the process run on; <see cref="RestartAfterCrashAsync"/> throws that away).
    /// </summary>
    public void CrashAt(string point)
    {
        Crash.FailAt = point;
        Crash.OnFail = _ =>
        {
            Crash.FailAt = null;
            var snapshot = Path.Combine(Dir.Path, "crash-snapshot");
            Directory.CreateDirectory(snapshot);
            foreach (var file in Directory.EnumerateFiles(StateDir).Where(f => !f.EndsWith(".sock", StringComparison.Ordinal)))
            {
                File.Copy(file, Path.Combine(snapshot, Path.GetFileName(file)), overwrite: true);
            }

            Crashed = true;
            Crashes++;
        };
    }

    public bool Crashed { get; private set; }

    public int Crashes { get; private set; }

    /// <summary>A new proxy process over the files as they were at the crash.</summary>
    public async Task RestartAfterCrashAsync()
    {
        await StopProxyAsync();
        var snapshot = Path.Combine(Dir.Path, "crash-snapshot");
        foreach (var file in Directory.EnumerateFiles(StateDir).Where(f => !f.EndsWith(".sock", StringComparison.Ordinal)))
        {
            File.Delete(file);
        }

        foreach (var file in Directory.EnumerateFiles(snapshot))
        {
            File.Copy(file, Path.Combine(StateDir, Path.GetFileName(file)));
        }

        Directory.Delete(snapshot, recursive: true);
        Crashed = false;
        await StartProxyAsync();
    }

    /// <summary>An allocated claim on the API server, and what the vendor reads of it.</summary>
    public SecureDra.KubeletPlugin.Claims.ClaimRef Claim(int i, params int[] gpus) => Claim(i, [], gpus);

    public SecureDra.KubeletPlugin.Claims.ClaimRef Claim(int i, IReadOnlyList<ClaimConfig> config, params int[] gpus)
    {
        Api.PutClaim(TestClaims.Allocated(i, [.. gpus.Select(g => new AllocationResult("gpu", Driver, Node, VendorDevice(g), false, null))], config));
        if (Vendor is { } vendor)
        {
            vendor.Allocations[TestClaims.Uid(i)] = [.. gpus.Select(g => (Node, VendorDevice(g), "gpu"))];
        }
        return TestClaims.Ref(i);
    }

    public static KubeletClaim K(int i) => new("tenant", $"claim-{i}", TestClaims.Uid(i));

    public Task<RegisteredDraPlugin> RegisteredAsync() =>
        Kubelet.WaitForPluginAsync(Driver).WaitAsync(TimeSpan.FromSeconds(15));

    public async ValueTask DisposeAsync()
    {
        await Kubelet.DisposeAsync();
        await StopProxyAsync();
        if (Vendor is { } vendor)
        {
            await vendor.DisposeAsync();
        }

        Dir.Dispose();
    }
}
