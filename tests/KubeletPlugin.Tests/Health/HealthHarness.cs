using System.Text.Json.Nodes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.Api.Validation;
using SecureDra.Kube;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.KubeletPlugin.Health;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.LocalCluster.ApiServer;
using SecureDra.LocalCluster.Kubelet;
using SecureDra.Nvml;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Observability.Metrics;
using SecureDra.Protocol.Health.V1Alpha1;

namespace SecureDra.KubeletPlugin.Tests.Health;

/// <summary>
/// The production node wiring (as NodeComponents registers it): simulated GPUs in a temp dir, the
/// Kubernetes client against an in-process local API server, the claim pipeline and device health,
/// hosted on real Unix sockets, and the kubelet emulator registered against it.
/// </summary>
public sealed class HealthHarness : IAsyncDisposable
{
    public const string Driver = "gpu.nvidia.com";
    public const string Node = "node-1";

    private HealthHarness(LocalApiServer server, IKubeApiClient kube, TestPlugin plugin, KubeletEmulator emulator, RegisteredDraPlugin registered, string nodeUid)
    {
        Server = server;
        Kube = kube;
        Plugin = plugin;
        Emulator = emulator;
        Registered = registered;
        NodeUid = nodeUid;
    }

    public LocalApiServer Server { get; }
    public IKubeApiClient Kube { get; }
    public TestPlugin Plugin { get; }
    public KubeletEmulator Emulator { get; }
    public RegisteredDraPlugin Registered { get; }
    public string NodeUid { get; }
    public SimulatedGpuBackend Backend => (SimulatedGpuBackend)Plugin.App.Services.GetRequiredService<IGpuBackend>();
    public DeviceHealthTracker Tracker => Plugin.App.Services.GetRequiredService<DeviceHealthTracker>();
    public MetricsRegistry Metrics => Plugin.App.Services.GetRequiredService<MetricsRegistry>();

    /// <summary>Open health subscriptions, as the plugin's metric reports them.</summary>
    public double Subscriptions => Metrics.Gauge(DeviceHealthTracker.SubscriptionsMetric, "").Value();
    public string VramDirectory => Path.Combine(Plugin.Dir.Path, "vram");

    public static async Task<HealthHarness> StartAsync(
        HealthOptions? health = null,
        int gpus = 2,
        WithdrawalMode mode = WithdrawalMode.RemoveFromSlice,
        TimeSpan? scrubRetryInitial = null)
    {
        var server = await LocalApiServer.StartAsync(new LocalApiServerOptions { Listen = "127.0.0.1:0", KubernetesVersion = "1.36" }, CancellationToken.None);
        var url = server.BaseAddress.ToString().TrimEnd('/');
        var kube = KubeApiClientFactory.Create(url);
        var node = await kube.CreateAsync(KubeResource.Nodes, null, new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject { ["name"] = Node },
        }, CancellationToken.None);
        var nodeUid = node["metadata"]!["uid"]!.GetValue<string>();

        var dir = TempDir.Create();
        await ProvenCleanCheckpoint.WriteAsync(
            Path.Combine(dir.Path, "plugins", Driver),
            Enumerable.Range(0, gpus).Select(i => SimulatedDeviceCatalog.Device(i, 256 * 1024)));
        var plugin = await TestPlugin.StartAsync(
            adjust: o => o with { Kubeconfig = url },
            configure: b =>
            {
                if (Environment.GetEnvironmentVariable("HEALTH_TEST_LOG") is { Length: > 0 } logFile)
                {
                    b.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Debug);
                    b.Logging.AddProvider(new FileLoggerProvider(logFile));
                }

                b.Services.AddGpuLayer(new GpuBackendOptions
                {
                    Kind = GpuBackendKind.Simulated,
                    Simulated = new SimulatedGpuOptions
                    {
                        DeviceCount = gpus,
                        MemoryBytes = 256 * 1024,
                        VramDirectory = Path.Combine(dir.Path, "vram"),
                        FaultFiles = true,
                        HealthPollInterval = TimeSpan.FromMilliseconds(25),
                    },
                });
                b.Services.AddSingleton(new EventRecorderOptions { Component = "securedra-kubelet-plugin", Host = Node });
                b.Services.AddKubeApiClient(url);
                b.Services.AddSingleton<IGpuConfigValidator>(new GpuConfigValidator(new GpuConfigLimits()));
                b.Services.AddClaimPipeline(new ClaimPipelineOptions
                {
                    WithdrawalMode = mode,
                    SysfsRoot = Path.Combine(dir.Path, "sys"),
                    SliceResyncInterval = TimeSpan.FromSeconds(1),
                    ScrubRetryInitial = scrubRetryInitial ?? TimeSpan.FromSeconds(5),
                    MigModeCheckInterval = TimeSpan.FromMilliseconds(100),
                });
                b.Services.AddDeviceHealth(health ?? new HealthOptions());
            },
            dir: dir);

        // Registration timing is RegistrationTests' subject; here a first GetInfo on a cold, shared
        // 2-core machine may take over the kubelet's 1 s, so these tests give it 5 s.
        var emulator = new KubeletEmulator(new KubeletEmulatorOptions
        {
            RegistrarDirectory = plugin.Options.KubeletRegistrarDirectoryPath,
            Profile = KubeletProfile.V1_35,
            GetInfoTimeout = TimeSpan.FromSeconds(5),
            NotifyTimeout = TimeSpan.FromSeconds(10),
        });
        emulator.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        RegisteredDraPlugin registered;
        try
        {
            registered = await emulator.WaitForPluginAsync(Driver, timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("the kubelet emulator did not register the plugin: " + string.Join("; ", emulator.Failures));
        }

        var harness = new HealthHarness(server, kube, plugin, emulator, registered, nodeUid);
        await harness.WaitForMonitorAsync();
        return harness;
    }

    /// <summary>
    /// In-process injection reaches only current watchers: a fault-file event proves the monitor's
    /// watch (which carries the file poller) is subscribed before a test injects anything.
    /// </summary>
    private async Task WaitForMonitorAsync()
    {
        var last = SimulatedDeviceCatalog.DeviceName(Backend.EnumerateAsync(CancellationToken.None).Result.Count - 1);
        SimulatedFaultFile.Write(VramDirectory, last, new SimulatedFaults { HealthEvents = [new SimulatedHealthEventSpec("singleBitEcc")] });
        await Poll.UntilAsync(() => Metrics.Render().Contains("kind=\"SingleBitEcc\"", StringComparison.Ordinal), "the health monitor is watching");
        SimulatedFaultFile.Delete(VramDirectory, last);
    }

    public void Inject(string device, GpuHealthEventKind kind, ulong data = 0) =>
        Backend.InjectHealthEvent(new GpuHealthEvent(device, kind, data, DateTimeOffset.UtcNow, $"{kind} {data} (test)"));

    /// <summary>Reads responses until one satisfies <paramref name="predicate"/>; returns it.</summary>
    public static async Task<NodeWatchResourcesResponse> ReadUntilAsync(AsyncServerStreamingCall<NodeWatchResourcesResponse> call, Func<NodeWatchResourcesResponse, bool> predicate, TimeSpan? within = null)
    {
        using var cts = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(10));
        while (await call.ResponseStream.MoveNext(cts.Token))
        {
            if (predicate(call.ResponseStream.Current))
            {
                return call.ResponseStream.Current;
            }
        }

        throw new InvalidOperationException("the health stream ended");
    }

    public static SecureDra.Protocol.Health.V1Alpha1.DeviceHealth Device(NodeWatchResourcesResponse response, string name) =>
        Assert.Single(response.Devices, d => d.Device.DeviceName == name);

    public async Task<IReadOnlyList<string>> SliceDevicesAsync()
    {
        var list = await Kube.ListAsync(SecureDra.Kube.Client.KubeResource.ResourceSlices("v1"), null, null, CancellationToken.None);
        return [.. list["items"]!.AsArray()
            .Where(s => s!["spec"]!["nodeName"]?.GetValue<string>() == Node)
            .SelectMany(s => s!["spec"]!["devices"]?.AsArray() ?? [])
            .Select(d => d!["name"]!.GetValue<string>())
            .Order(StringComparer.Ordinal)];
    }

    public async Task<IReadOnlyList<JsonObject>> SliceDeviceObjectsAsync()
    {
        var list = await Kube.ListAsync(SecureDra.Kube.Client.KubeResource.ResourceSlices("v1"), null, null, CancellationToken.None);
        return [.. list["items"]!.AsArray()
            .Where(s => s!["spec"]!["nodeName"]?.GetValue<string>() == Node)
            .SelectMany(s => s!["spec"]!["devices"]?.AsArray() ?? [])
            .Select(d => d!.AsObject())];
    }

    public async Task<IReadOnlyList<JsonObject>> NodeEventsAsync(string reason)
    {
        var list = await Kube.ListAsync(SecureDra.Kube.Client.KubeResource.Events, "default", null, CancellationToken.None);
        return [.. list["items"]!.AsArray()
            .Select(e => e!.AsObject())
            .Where(e => e["reason"]?.GetValue<string>() == reason && e["involvedObject"]?["kind"]?.GetValue<string>() == "Node")];
    }

    public double MetricValue(string series)
    {
        foreach (var line in Metrics.Render().Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        await Emulator.DisposeAsync();
        await Plugin.DisposeAsync();
        await Server.DisposeAsync();
        (Kube as IDisposable)?.Dispose();
    }
}

/// <summary>Debug aid: set HEALTH_TEST_LOG=/path to capture the plugin's log of a health test.</summary>
internal sealed class FileLoggerProvider(string path) : ILoggerProvider
{
    private readonly Lock _lock = new();

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void Dispose()
    {
    }

    private void Write(string line)
    {
        lock (_lock)
        {
            File.AppendAllText(path, line + Environment.NewLine);
        }
    }

    private sealed class FileLogger(FileLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => category.StartsWith("SecureDra", StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Write($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
