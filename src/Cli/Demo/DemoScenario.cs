using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using SecureDra.Api;
using SecureDra.Kube.Client;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.LocalCluster.ApiServer;
using SecureDra.LocalCluster.Kubelet;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Observability.Changes;
using HealthStatus = SecureDra.Protocol.Health.V1Alpha1.HealthStatus;
using NodeWatchResourcesResponse = SecureDra.Protocol.Health.V1Alpha1.NodeWatchResourcesResponse;

namespace SecureDra.Cli.Demo;

/// <summary>
/// The whole claim lifecycle on simulated GPUs, with the production wiring: the local API
/// server, the kubelet plugin built exactly as <c>securedra kubelet-plugin</c> builds it, and the
/// kubelet emulator over the real Unix sockets. The two tenants and the scheduler are played by
/// this class; everything else is the product.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class DemoScenario(DemoOptions options, TextWriter output)
{
    private const string NodeName = "demo-node";
    internal const string Canary = "TENANT-A-SECRET: llama-weights shard 7/8";
    private static readonly string DriverName = DriverConstants.DefaultDriverName;

    /// <summary>
    /// Runs the demo. SIGINT (Ctrl+C) and SIGTERM stop it cleanly at any point, also in --keep-running: the plugin,
    /// the kubelet emulator and the API server are stopped, their sockets removed, and a work directory the demo
    /// created itself is deleted (kept, with its logs, only when the demo failed). The signals are registered here
    /// and not left to the command line library: the plugin's host also handles them and would otherwise swallow them.
    /// </summary>
    /// <returns>0 done (or stopped by a signal while kept running), 130 interrupted mid-run, 1 failed.</returns>
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var ownWorkDirectory = options.WorkDirectory is null;
        var work = options.WorkDirectory ?? Directory.CreateTempSubdirectory("securedra-demo-").FullName;
        Directory.CreateDirectory(work);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; Cancel(stop); });
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Cancel(stop); });
        var keep = ownWorkDirectory;
        try
        {
            var code = await RunCoreAsync(work, stop.Token).ConfigureAwait(false);
            keep = code != 0;
            return code;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            keep = false;
            output.WriteLine();
            output.WriteLine("Interrupted: the plugin, the kubelet emulator and the API server are stopped.");
            return 130;
        }
        finally
        {
            if (ownWorkDirectory && !keep)
            {
                TryDelete(work);
            }
            else if (ownWorkDirectory)
            {
                output.WriteLine($"Work dir kept for its logs: {work}");
            }
        }
    }

    private static void Cancel(CancellationTokenSource stop)
    {
        try
        {
            stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The signal arrived as the demo was returning.
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a temp dir left behind is harmless; the demo already stopped everything in it.
        }
    }

    private async Task<int> RunCoreAsync(string work, CancellationToken ct)
    {
        if (options.Mode == DemoMode.Proxy)
        {
            return await new ProxyDemoScenario(options, output).RunCoreAsync(work, ct).ConfigureAwait(false);
        }

        if (options.Mode == DemoMode.Mig)
        {
            return await new MigDemoScenario(options, output).RunCoreAsync(work, ct).ConfigureAwait(false);
        }

        var registrar = Directory.CreateDirectory(Path.Combine(work, "plugins_registry")).FullName;
        var plugins = Directory.CreateDirectory(Path.Combine(work, "plugins")).FullName;
        var cdi = Directory.CreateDirectory(Path.Combine(work, "cdi")).FullName;
        var vram = Path.Combine(plugins, DriverName, "simulated-vram");
        var narrator = new DemoNarrator(output, totalSteps: 9);
        using var log = new DemoLog(work);

        narrator.Title($"SecureDra demo: {options.Gpus} simulated GPUs x {Format(options.GpuMemoryBytes)}, Kubernetes {options.KubernetesVersion} stand-in, no cluster");
        narrator.Detail(options.WorkDirectory is null
            ? $"work dir {work} (logs in securedra.log; a temp dir, removed on exit unless the demo fails: pass --work-dir to keep it)"
            : $"work dir {work} (logs in securedra.log)");

        await using var apiServer = await DemoScenario.StartApiServerAsync(narrator, options, log.Factory, ct).ConfigureAwait(false);

        var (_, cluster) = await DemoCluster.CreateAsync(apiServer.BaseAddress.ToString().TrimEnd('/'), DriverName, NodeName, securedraConfig: true, ct).ConfigureAwait(false);

        var pluginOptions = DemoNode.PluginOptions(DriverName, NodeName, apiServer.BaseAddress.ToString().TrimEnd('/'), registrar, plugins, cdi);
        // The demo's own scripted Xid goes through a fault file in its private directory (the last step below).
        var components = DemoNode.Components(new SimulatedGpuOptions { DeviceCount = options.Gpus, MemoryBytes = options.GpuMemoryBytes, VramDirectory = vram, FaultFiles = true });

        var plugin = await narrator.StepAsync($"Start the kubelet plugin on {options.Gpus} simulated GPUs", async () =>
        {
            var app = DemoNode.Build(pluginOptions, log.Logger, services => components.Register(services, pluginOptions));
            await app.StartAsync(ct).ConfigureAwait(false);
            narrator.Detail($"GPU memory: {vram}/gpu-N.vram (memory-mapped files, really written and read)");
            narrator.Detail($"metrics: {DemoMetricsEndpoint.Url(app)} (Prometheus text; /healthz and /readyz beside it)");
            return app;
        }).ConfigureAwait(false);

        // Stopped, not only disposed, however the demo ends: stopping removes the plugin's sockets.
        await using var pluginLifetime = new StopOnDispose(plugin);
        await using var kubelet = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = registrar, Profile = KubeletProfile.V1_34 }, TimeProvider.System, log.Factory.CreateLogger("kubelet-emulator"));

        var dra = await narrator.StepAsync("Kubelet discovers and registers the plugin", async () =>
        {
            var registered = await RegisterAsync(kubelet, "plugin", ct).ConfigureAwait(false);

            narrator.Detail($"{Path.GetFileName(registered.RegistrationSocket)} → {registered.DriverName}, endpoint {registered.Endpoint}");
            narrator.Detail($"offered {string.Join(", ", registered.OfferedServices)}; the kubelet picked {registered.Service}");
            return registered;
        }).ConfigureAwait(false);

        var health = new HealthWatch(dra.WatchHealth(ct));
        var healthTask = health.RunAsync(ct);

        await narrator.StepAsync("ResourceSlices published for the node", async () =>
        {
            var devices = await WaitAsync(() => cluster.PublishedDevicesAsync(ct), d => d.Count == options.Gpus, "all devices published", ct).ConfigureAwait(false);
            narrator.Table(
                ["DEVICE", "UUID", "PRODUCT", "MEMORY", "PCI BUS ID", "DRIVER"],
                [.. devices.Select(d => (IReadOnlyList<string>)[
                    d["name"]!.GetValue<string>(), DemoCluster.Attribute(d, "uuid"), DemoCluster.Attribute(d, "productName"),
                    DemoCluster.Capacity(d, "memory"), DemoCluster.Attribute(d, "resource.kubernetes.io/pciBusID"), DemoCluster.Attribute(d, "driverVersion")])]);
        }).ConfigureAwait(false);

        var claimA = await narrator.StepAsync("Tenant A's claim is allocated gpu-0 and prepared", async () =>
        {
            var (name, uid) = await cluster.CreateAllocatedClaimAsync("tenant-a", "training-gpu", "gpu-0", ct).ConfigureAwait(false);
            var result = await PrepareAsync(dra, "tenant-a", name, uid, ct).ConfigureAwait(false);
            var device = result.Devices.Single();
            narrator.Detail($"claim tenant-a/{name} uid {uid}: device {device.PoolName}/{device.DeviceName}, requests [{string.Join(", ", device.RequestNames)}]");
            narrator.Detail($"CDI IDs: {string.Join(", ", device.CdiDeviceIds)}");
            var spec = Directory.GetFiles(cdi).Single();
            var specJson = await File.ReadAllTextAsync(spec, ct).ConfigureAwait(false);
            if (options.Verbose)
            {
                narrator.Detail($"CDI spec {Path.GetFileName(spec)}:");
                narrator.Detail(Indented(specJson));
            }
            else
            {
                narrator.Detail($"CDI spec {Path.GetFileName(spec)}: {CdiSummary(specJson)} (--verbose prints it whole)");
            }
            return new KubeletClaim("tenant-a", name, uid);
        }).ConfigureAwait(false);

        var gpu0 = Path.Combine(vram, "gpu-0.vram");
        var offsets = CanaryOffsets(options.GpuMemoryBytes);
        await narrator.StepAsync("Tenant A writes a canary into gpu-0's memory", async () =>
        {
            await WriteCanaryAsync(gpu0, offsets, ct).ConfigureAwait(false);
            var found = await CountCanariesAsync(gpu0, offsets, ct).ConfigureAwait(false);
            narrator.Detail($"\"{Canary}\" at {offsets.Count} offsets ({string.Join(", ", offsets.Select(o => "0x" + o.ToString("x", CultureInfo.InvariantCulture)))}); read back: {found}/{offsets.Count} present");
        }).ConfigureAwait(false);

        await narrator.StepAsync("Tenant A's pod ends: the claim is unprepared and gpu-0 scrubbed before the call returns", async () =>
        {
            var errors = await dra.UnprepareAsync([claimA], ct).ConfigureAwait(false);
            if (errors.TryGetValue(claimA.Uid, out var error) && error.Length > 0)
            {
                throw new InvalidOperationException($"unprepare failed: {error}");
            }

            var report = await WaitAsync(() => cluster.LatestNodeEventMessageAsync("VramScrubbed", ct), m => m is not null, "the VramScrubbed event", ct).ConfigureAwait(false);
            narrator.Detail($"scrub report (Event VramScrubbed on Node/{NodeName}): {report}");
            var left = await CountCanariesAsync(gpu0, offsets, ct).ConfigureAwait(false);
            narrator.Good($"canary copies left in gpu-0's memory: {left}");
            var published = await cluster.PublishedDevicesAsync(ct).ConfigureAwait(false);
            narrator.Detail($"gpu-0 is verified clean and stays published ({published.Count} devices in the slice)");
        }).ConfigureAwait(false);

        await narrator.StepAsync("Tenant B is allocated the same GPU and looks for tenant A's data", async () =>
        {
            var (name, uid) = await cluster.CreateAllocatedClaimAsync("tenant-b", "inference-gpu", "gpu-0", ct).ConfigureAwait(false);
            var result = await PrepareAsync(dra, "tenant-b", name, uid, ct).ConfigureAwait(false);
            var found = await CountCanariesAsync(gpu0, offsets, ct).ConfigureAwait(false);
            var nonZero = await SimulatedVramFile.CountNonZeroBytesAsync(gpu0, ct).ConfigureAwait(false);
            narrator.Detail($"tenant-b/{name} prepared on {result.Devices.Single().DeviceName}");
            narrator.Good($"canary found: {found} of {offsets.Count}; non-zero bytes in all {Format(options.GpuMemoryBytes)}: {nonZero}");
            await dra.UnprepareAsync([new KubeletClaim("tenant-b", name, uid)], ct).ConfigureAwait(false);
        }).ConfigureAwait(false);

        await narrator.StepAsync("A GPU fails: Xid 79 on gpu-1 reaches the kubelet's health stream and gpu-1 leaves the slice", async () =>
        {
            SimulatedFaultFile.Write(vram, "gpu-1", new SimulatedFaults { HealthEvents = [new SimulatedHealthEventSpec("xid", 79, "demo: injected")] });
            var update = await health.WaitForAsync(r => r.Devices.Any(d => d.Device.DeviceName == "gpu-1" && d.Health == HealthStatus.Unhealthy), TimeSpan.FromSeconds(15), ct).ConfigureAwait(false);
            var gpu1 = update.Devices.Single(d => d.Device.DeviceName == "gpu-1");
            narrator.Detail($"health stream: {string.Join(", ", update.Devices.Select(d => $"{d.Device.DeviceName}={d.Health.ToString().ToUpperInvariant()}"))}");
            narrator.Detail($"gpu-1: \"{gpu1.Message}\"");
            var devices = await WaitAsync(() => cluster.PublishedDevicesAsync(ct), d => d.All(x => x["name"]!.GetValue<string>() != "gpu-1"), "gpu-1 withdrawn", ct).ConfigureAwait(false);
            narrator.Good($"slice now offers: {string.Join(", ", devices.Select(d => d["name"]!.GetValue<string>()))}");
        }).ConfigureAwait(false);

        output.WriteLine();
        output.WriteLine($"Done in {narrator.Elapsed.TotalSeconds:F1} s: no tenant read another tenant's VRAM.");
        if (options.KeepRunning)
        {
            await DemoKeepRunning.WaitAsync(output, "the API server and plugin", apiServer.BaseAddress, "plugin", DemoMetricsEndpoint.Url(plugin), ct).ConfigureAwait(false);
        }

        await plugin.StopAsync(CancellationToken.None).ConfigureAwait(false);
        health.Stop();
        await healthTask.ConfigureAwait(false);
        return 0;
    }

    internal static async Task<KubeletPrepareResult> PrepareAsync(RegisteredDraPlugin dra, string ns, string name, string uid, CancellationToken ct)
    {
        var results = await dra.PrepareAsync([new KubeletClaim(ns, name, uid)], ct).ConfigureAwait(false);
        var result = results[uid];
        return result.Error.Length > 0 ? throw new InvalidOperationException($"prepare of {ns}/{name} failed: {result.Error}") : result;
    }

    /// <summary>The first step of every demo: the in-memory API server stand-in, in the demo's Kubernetes version mode.</summary>
    internal static Task<LocalApiServer> StartApiServerAsync(DemoNarrator narrator, DemoOptions options, ILoggerFactory loggerFactory, CancellationToken ct) =>
        narrator.StepAsync($"Start the local API server (Kubernetes {options.KubernetesVersion} mode)", async () =>
        {
            var server = await LocalApiServer.StartAsync(new LocalApiServerOptions { Listen = options.Listen, KubernetesVersion = options.KubernetesVersion }, loggerFactory, TimeProvider.System, ct).ConfigureAwait(false);
            narrator.Detail($"{server.BaseAddress} (in memory; a stand-in, never used in a cluster)");
            return server;
        });

    internal static string Indented(string json)
    {
        using var buffer = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true }))
        {
            JsonNode.Parse(json)!.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>"kind k8s.gpu.nvidia.com/claim, 1 device: &lt;name&gt; (env …; device nodes …)": what a reader needs from the spec.</summary>
    private static string CdiSummary(string json)
    {
        var spec = JsonNode.Parse(json)!;
        var devices = spec["devices"]?.AsArray().OfType<JsonObject>().ToList() ?? [];
        var parts = devices.Select(d =>
        {
            var env = d["containerEdits"]?["env"]?.AsArray().Select(e => e?.GetValue<string>()) ?? [];
            var nodes = d["containerEdits"]?["deviceNodes"]?.AsArray().Select(n => n?["path"]?.GetValue<string>()) ?? [];
            return $"{d["name"]?.GetValue<string>()} (env {string.Join(", ", env)}; device nodes {string.Join(", ", nodes)})";
        });
        return $"cdiVersion {spec["cdiVersion"]?.GetValue<string>()}, kind {spec["kind"]?.GetValue<string>()}, {devices.Count} device(s): {string.Join("; ", parts)}";
    }

    internal static List<long> CanaryOffsets(long size) =>
        [0, 4096 + 7, size / 3, size / 2 + 1234, size - 4096];

    internal static Task WriteCanaryAsync(string path, IReadOnlyList<long> offsets, CancellationToken ct) =>
        DemoVram.WriteTextAsync(path, offsets, Canary, ct);

    internal static Task<int> CountCanariesAsync(string path, IReadOnlyList<long> offsets, CancellationToken ct) =>
        DemoVram.CountTextAsync(path, offsets, Canary, ct);

    internal static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var value = await probe().ConfigureAwait(false);
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(50, ct).ConfigureAwait(false);
        }
    }

    internal static string Format(long bytes) =>
        bytes >= 1L << 30 ? $"{bytes >> 30} GiB" : bytes >= 1L << 20 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";

    /// <summary>Reads the kubelet-side health stream and keeps the latest full device list.</summary>
    private sealed class HealthWatch(Grpc.Core.AsyncServerStreamingCall<NodeWatchResourcesResponse> call)
    {
        private readonly Lock _lock = new();
        private readonly List<NodeWatchResourcesResponse> _responses = [];
        private readonly ChangeSignal _changed = new();

        public async Task RunAsync(CancellationToken ct)
        {
            try
            {
                while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
                {
                    lock (_lock)
                    {
                        _responses.Add(call.ResponseStream.Current);
                    }

                    _changed.Signal();
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or Grpc.Core.RpcException)
            {
                // Stream closed at the end of the demo.
            }
        }

        public async Task<NodeWatchResourcesResponse> WaitForAsync(Func<NodeWatchResourcesResponse, bool> match, TimeSpan timeout, CancellationToken ct)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    var hit = _responses.LastOrDefault(match);
                    if (hit is not null)
                    {
                        return hit;
                    }

                    changed = _changed.Next;
                }

                var remaining = deadline - DateTime.UtcNow;
                if (remaining <= TimeSpan.Zero)
                {
                    throw new TimeoutException("timed out waiting for the health stream");
                }

                await changed.WaitAsync(remaining, ct).ConfigureAwait(false);
            }
        }

        public void Stop() => call.Dispose();
    }

    /// <summary>Starts the kubelet emulator and waits (60 s at most) for the driver's registration; a timeout names why.</summary>
    internal static async Task<RegisteredDraPlugin> RegisterAsync(KubeletEmulator kubelet, string what, CancellationToken ct)
    {
        kubelet.Start();
        using var registration = CancellationTokenSource.CreateLinkedTokenSource(ct);
        registration.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            return await kubelet.WaitForPluginAsync(DriverName, registration.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"the kubelet emulator could not register the {what} within 60 s: {string.Join("; ", kubelet.Failures.Values)}");
        }
    }

    /// <summary>Stops a host (graceful: sockets removed, slices withdrawn) before disposing it; stopping twice is harmless.</summary>
    internal sealed class StopOnDispose(WebApplication app) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
