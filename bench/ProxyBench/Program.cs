// ProxyBench: the driver proxy's added latency per Prepare and per Unprepare, against calling the vendor directly,
// measured in one run over real Unix sockets. The vendor is a minimal honest DRA plugin; the scrub is replaced by an
// instant verified one (the proxy's scrub cost is ScrubBench's subject), so the difference is the proxy's own work:
// admission, claim read, slice->GPU mapping, reservation, answer check, the fsync'd checkpoint commit, the extra hop.
// Usage: ProxyBench [iterations=300] [state-parent=/tmp]
using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.Api.Validation;
using SecureDra.Kube.Events;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Proxy;
using SecureDra.Nvml;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;
using V1 = SecureDra.Protocol.Dra.V1;
using RegistrationApi = SecureDra.Protocol.Registration.Registration;

var iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 300;
var parent = args.Length > 1 ? args[1] : "/tmp";
var root = Path.Combine(parent, "pxb-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(root);
const string Driver = "gpu.nvidia.com";
const string Node = "node-a";
const int Gpus = 4;
try
{
    var gpu = new GpuBackendOptions { Kind = GpuBackendKind.Simulated, Simulated = new() { DeviceCount = Gpus, MemoryBytes = 64 * 1024, VramDirectory = Path.Combine(root, "vram") } };
    var api = new BenchResourceApi(Driver, Node);

    // The vendor.
    var vreg = Path.Combine(root, "vreg");
    var vplug = Path.Combine(root, "vplug");
    Directory.CreateDirectory(vreg);
    Directory.CreateDirectory(vplug);
    var vendorBuilder = WebApplication.CreateSlimBuilder();
    vendorBuilder.Logging.ClearProviders();
    vendorBuilder.Services.AddGrpc();
    vendorBuilder.Services.AddSingleton(api);
    var vendorDra = Path.Combine(vplug, "dra.sock");
    BenchVendor.Endpoint = vendorDra;
    vendorBuilder.WebHost.ConfigureKestrel(k =>
    {
        k.ListenUnixSocket(vendorDra, l => l.Protocols = HttpProtocols.Http2);
        k.ListenUnixSocket(Path.Combine(vreg, Driver + "-reg.sock"), l => l.Protocols = HttpProtocols.Http2);
    });
    await using var vendor = vendorBuilder.Build();
    vendor.MapGrpcService<BenchVendorRegistration>();
    vendor.MapGrpcService<BenchVendor>();
    await vendor.StartAsync();

    // The proxy.
    var state = Path.Combine(root, "state");
    var options = new KubeletPluginOptions
    {
        DriverName = Driver,
        NodeName = Node,
        KubeletRegistrarDirectoryPath = Path.Combine(root, "reg"),
        KubeletPluginsDirectoryPath = Path.Combine(root, "plugins"),
        DataDirectoryOverride = state,
        CdiRoot = Path.Combine(state, "no-cdi"),
        DeferRegistration = true,
    };
    await using var proxy = KubeletPluginHost.Build(options, b =>
    {
        b.Logging.ClearProviders();
        b.Services.AddGpuLayer(gpu);
        b.Services.AddSingleton<IVramScrubber, InstantScrubber>();
        b.Services.AddSingleton<IResourceApi>(api);
        b.Services.AddSingleton<IEventRecorder, NullEvents>();
        b.Services.AddSingleton<IGpuConfigValidator>(new GpuConfigValidator(new GpuConfigLimits()));
        b.Services.AddDriverProxy(
            new ProxyOptions { VendorRegistryDirectory = vreg, VendorPluginsDirectory = vplug, VendorProbeInterval = TimeSpan.FromMilliseconds(50) },
            new ClaimPipelineOptions { BootIdPath = Path.Combine(root, "boot_id"), SysfsRoot = Path.Combine(root, "sys"), KubernetesMinorVersion = 35 });
    });
    await proxy.StartAsync();
    var backend = proxy.Services.GetRequiredService<IGpuBackend>();
    api.Gpus = await backend.EnumerateAsync(CancellationToken.None);
    var registry = proxy.Services.GetRequiredService<VendorRegistry>();
    var started = Stopwatch.StartNew();
    while (registry.Current is null || !registry.Check().Ready)
    {
        // First install: the start-up scrubs every GPU before Prepare is served.
        if (started.Elapsed > TimeSpan.FromSeconds(60))
        {
            throw new TimeoutException("vendor never registered with the proxy");
        }

        await Task.Delay(20);
    }

    var layout = proxy.Services.GetRequiredService<PluginSocketLayout>();
    using var direct = VendorChannel.Create(vendorDra, 4 * 1024 * 1024);
    using var throughProxy = VendorChannel.Create(layout.DraSocketPath, 4 * 1024 * 1024);
    var directClient = new V1.DRAPlugin.DRAPluginClient(direct);
    var proxyClient = new V1.DRAPlugin.DRAPluginClient(throughProxy);

    async Task<(List<double> Prepare, List<double> Unprepare)> RunAsync(V1.DRAPlugin.DRAPluginClient client, int offset, int count)
    {
        var prepare = new List<double>(count);
        var unprepare = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var claim = new V1.Claim { Namespace = "bench", Name = $"claim-{offset + i}", Uid = BenchResourceApi.Uid(offset + i) };
            var p = new V1.NodePrepareResourcesRequest();
            p.Claims.Add(claim);
            var clock = Stopwatch.StartNew();
            var prepared = await client.NodePrepareResourcesAsync(p);
            prepare.Add(clock.Elapsed.TotalMilliseconds);
            if (prepared.Claims[claim.Uid].Error is { Length: > 0 } error)
            {
                throw new InvalidOperationException(error);
            }

            var u = new V1.NodeUnprepareResourcesRequest();
            u.Claims.Add(claim);
            clock.Restart();
            var released = await client.NodeUnprepareResourcesAsync(u);
            unprepare.Add(clock.Elapsed.TotalMilliseconds);
            if (released.Claims[claim.Uid].Error is { Length: > 0 } uerror)
            {
                throw new InvalidOperationException(uerror);
            }
        }

        return (prepare, unprepare);
    }

    // Warm-up both paths, then interleave rounds so load changes hit both alike.
    await RunAsync(directClient, 1_000_000, 20);
    await RunAsync(proxyClient, 2_000_000, 20);
    var d = (Prepare: new List<double>(), Unprepare: new List<double>());
    var x = (Prepare: new List<double>(), Unprepare: new List<double>());
    for (var round = 0; round < 10; round++)
    {
        var r1 = await RunAsync(directClient, 3_000_000 + (round * iterations), iterations / 10);
        var r2 = await RunAsync(proxyClient, 4_000_000 + (round * iterations), iterations / 10);
        d.Prepare.AddRange(r1.Prepare);
        d.Unprepare.AddRange(r1.Unprepare);
        x.Prepare.AddRange(r2.Prepare);
        x.Unprepare.AddRange(r2.Unprepare);
    }

    static double P(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
    }

    var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
    Console.WriteLine($"ProxyBench: {iterations} claims per path, state in {parent}, loadavg {load}");
    Console.WriteLine("op         path    p50 ms   p95 ms");
    foreach (var (op, dl, xl) in new[] { ("Prepare", d.Prepare, x.Prepare), ("Unprepare", d.Unprepare, x.Unprepare) })
    {
        Console.WriteLine($"{op,-10} vendor {P(dl, 0.5),8:F3} {P(dl, 0.95),8:F3}");
        Console.WriteLine($"{op,-10} proxy  {P(xl, 0.5),8:F3} {P(xl, 0.95),8:F3}");
        Console.WriteLine($"{op,-10} added  {P(xl, 0.5) - P(dl, 0.5),8:F3} (p50 difference)");
    }

    await proxy.StopAsync();
    await vendor.StopAsync();
}
finally
{
    try
    {
        Directory.Delete(root, recursive: true);
    }
    catch (IOException)
    {
    }
}

/// <summary>Every claim "bench/claim-N" is allocated GPU N mod 4 of the vendor; the vendor's slice names them vgpu-N.</summary>
internal sealed class BenchResourceApi(string driver, string node) : IResourceApi
{
    public IReadOnlyList<GpuDevice> Gpus { get; set; } = [];

    public static string Uid(int i) => $"00000000-0000-4000-8000-{i:d12}";

    public static int Index(string name) => int.Parse(name["claim-".Length..], CultureInfo.InvariantCulture);

    public ResourceApiVersion Version => ResourceApiVersion.V1;

    public Task<ResourceApiVersion> NegotiateAsync(CancellationToken cancellationToken) => Task.FromResult(ResourceApiVersion.V1);

    public Task<ResourceClaimModel?> GetClaimAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        var i = Index(name);
        return Task.FromResult<ResourceClaimModel?>(new ResourceClaimModel(@namespace, name, Uid(i), "1", [], [],
            new ClaimAllocation([new AllocationResult("gpu", driver, node, "vgpu-" + (i % 4), false, null)], [])));
    }

    public Task<IReadOnlyList<ResourceSliceModel>> ListSlicesAsync(string driverName, string nodeName, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ResourceSliceModel>>([new ResourceSliceModel("vendor", "1", driver, node, node, 1, 1,
            [.. Gpus.Select(g => new SliceDevice("vgpu-" + g.Index, new Dictionary<string, DeviceAttributeValue> { ["uuid"] = DeviceAttributeValue.Of(g.Uuid) }, new Dictionary<string, string>(), []))])]);

    public Task<ResourceSliceModel> CreateSliceAsync(ResourceSliceModel slice, CancellationToken cancellationToken) => throw new NotSupportedException("the proxy writes no slices");

    public Task<ResourceSliceModel> UpdateSliceAsync(ResourceSliceModel slice, CancellationToken cancellationToken) => throw new NotSupportedException("the proxy writes no slices");

    public Task DeleteSliceAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException("the proxy writes no slices");
}

internal sealed class InstantScrubber : IVramScrubber
{
    public Task<ScrubReport> ScrubAsync(GpuDevice device, ScrubTrigger trigger, CancellationToken cancellationToken) =>
        Task.FromResult(new ScrubReport
        {
            DeviceName = device.Name,
            DeviceUuid = device.Uuid,
            Method = "bench-instant",
            TotalBytes = device.MemoryBytes,
            FreeBytesBefore = device.MemoryBytes,
            BytesZeroed = device.MemoryBytes,
            Coverage = 1.0,
            Verified = true,
        });
}

internal sealed class NullEvents : IEventRecorder
{
    public Task RecordAsync(EventTarget target, EventSeverity severity, string reason, string message, CancellationToken cancellationToken) => Task.CompletedTask;
}

internal sealed class BenchVendorRegistration : RegistrationApi.RegistrationBase
{
    public override Task<SecureDra.Protocol.Registration.PluginInfo> GetInfo(SecureDra.Protocol.Registration.InfoRequest request, ServerCallContext context)
    {
        var info = new SecureDra.Protocol.Registration.PluginInfo { Type = "DRAPlugin", Name = "gpu.nvidia.com", Endpoint = BenchVendor.Endpoint };
        info.SupportedVersions.Add("v1.DRAPlugin");
        return Task.FromResult(info);
    }

    public override Task<SecureDra.Protocol.Registration.RegistrationStatusResponse> NotifyRegistrationStatus(SecureDra.Protocol.Registration.RegistrationStatus request, ServerCallContext context) =>
        Task.FromResult(new SecureDra.Protocol.Registration.RegistrationStatusResponse());
}

/// <summary>An honest vendor that does the least: answers NVIDIA's CDI ID for each allocated device, keeps nothing.</summary>
internal sealed class BenchVendor(BenchResourceApi api) : V1.DRAPlugin.DRAPluginBase
{
    public static string Endpoint { get; set; } = "";

    public override Task<V1.NodePrepareResourcesResponse> NodePrepareResources(V1.NodePrepareResourcesRequest request, ServerCallContext context)
    {
        var response = new V1.NodePrepareResourcesResponse();
        foreach (var claim in request.Claims)
        {
            var device = new V1.Device { PoolName = "node-a", DeviceName = "vgpu-" + (BenchResourceApi.Index(claim.Name) % 4) };
            device.RequestNames.Add("gpu");
            device.CdiDeviceIds.Add($"k8s.gpu.nvidia.com/claim={claim.Uid}-{device.DeviceName}");
            var entry = new V1.NodePrepareResourceResponse();
            entry.Devices.Add(device);
            response.Claims.Add(claim.Uid, entry);
        }

        _ = api;
        return Task.FromResult(response);
    }

    public override Task<V1.NodeUnprepareResourcesResponse> NodeUnprepareResources(V1.NodeUnprepareResourcesRequest request, ServerCallContext context)
    {
        var response = new V1.NodeUnprepareResourcesResponse();
        foreach (var claim in request.Claims)
        {
            response.Claims.Add(claim.Uid, new V1.NodeUnprepareResourceResponse());
        }

        return Task.FromResult(response);
    }
}
