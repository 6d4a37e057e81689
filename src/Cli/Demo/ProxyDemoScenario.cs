using System.Globalization;
using Microsoft.Extensions.Logging;
using SecureDra.Api;
using SecureDra.Kube.Client;
using SecureDra.KubeletPlugin.Proxy;
using SecureDra.LocalCluster.ApiServer;
using SecureDra.LocalCluster.Kubelet;
using SecureDra.LocalCluster.VendorPlugin;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.Cli.Demo;

/// <summary>
/// <c>securedra demo --mode proxy</c>: the same tenant story with the driver proxy in front of a simulated vendor plugin
/// (<see cref="SimulatedVendorPlugin"/>) that, like real vendors, does not clear GPU memory. The vendor registers in a
/// private directory; only the proxy registers with the kubelet emulator. The canary is counted twice on release: after
/// the vendor's Unprepare (still there) and after the proxy's scrub (gone). The proxy is built as <c>securedra proxy</c>
/// builds it (<see cref="NodeComponents.RegisterProxy"/>).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class ProxyDemoScenario(DemoOptions options, TextWriter output)
{
    private const string NodeName = "demo-node";
    private static readonly string DriverName = DriverConstants.DefaultDriverName;

    public async Task<int> RunCoreAsync(string work, CancellationToken ct)
    {
        var registrar = Directory.CreateDirectory(Path.Combine(work, "plugins_registry")).FullName;
        var plugins = Directory.CreateDirectory(Path.Combine(work, "plugins")).FullName;
        var vendorRegistry = Directory.CreateDirectory(Path.Combine(work, "vendor", "plugins_registry")).FullName;
        var vendorPlugins = Directory.CreateDirectory(Path.Combine(work, "vendor", "plugins")).FullName;
        var state = Path.Combine(plugins, "securedra-proxy");
        var vram = Path.Combine(work, "simulated-vram");
        var narrator = new DemoNarrator(output, totalSteps: 7);
        using var log = new DemoLog(work);

        narrator.Title($"SecureDra proxy demo: {options.Gpus} simulated GPUs x {DemoScenario.Format(options.GpuMemoryBytes)}, a simulated vendor plugin that does not scrub, no cluster");
        narrator.Detail(options.WorkDirectory is null ? $"work dir {work} (logs in securedra.log; removed on exit unless the demo fails)" : $"work dir {work} (logs in securedra.log)");

        await using var apiServer = await DemoScenario.StartApiServerAsync(narrator, options, log.Factory, ct).ConfigureAwait(false);

        var baseAddress = apiServer.BaseAddress.ToString().TrimEnd('/');
        var (api, cluster) = await DemoCluster.CreateAsync(baseAddress, DriverName, NodeName, securedraConfig: false, ct).ConfigureAwait(false);

        var gpus = Enumerable.Range(0, options.Gpus)
            .Select(i => new VendorGpu(SimulatedDeviceCatalog.DeviceName(i), SimulatedDeviceCatalog.Uuid(i), SimulatedDeviceCatalog.PciBusId(i), "NVIDIA H100 80GB HBM3", options.GpuMemoryBytes.ToString(CultureInfo.InvariantCulture)))
            .ToList();
        var gpu0 = Path.Combine(vram, "gpu-0.vram");
        var offsets = DemoScenario.CanaryOffsets(options.GpuMemoryBytes);
        int? leftByVendor = null;

        await using var vendor = await narrator.StepAsync("Start the simulated vendor plugin in a private registry directory", async () =>
        {
            var plugin = new SimulatedVendorPlugin(
                new SimulatedVendorPluginOptions { RegistryDirectory = vendorRegistry, PluginsDirectory = vendorPlugins, NodeName = NodeName, DriverName = DriverName, Gpus = gpus },
                api,
                log.Factory.CreateLogger("simulated-vendor-plugin"));
            plugin.AfterUnprepare = async _ => leftByVendor = await DemoScenario.CountCanariesAsync(gpu0, offsets, ct).ConfigureAwait(false);
            await plugin.StartAsync(ct).ConfigureAwait(false);
            narrator.Detail($"{plugin.RegistrationSocket} (the kubelet does not watch this directory; NVIDIA's chart: kubeletPlugin.kubeletRegistrarDirectoryPath)");
            var devices = await DemoScenario.WaitAsync(() => cluster.PublishedDevicesAsync(ct), d => d.Count == options.Gpus, "the vendor's slice", ct).ConfigureAwait(false);
            narrator.Table(
                ["DEVICE", "UUID", "PCI BUS ID"],
                [.. devices.Select(d => (IReadOnlyList<string>)[d["name"]!.GetValue<string>(), DemoCluster.Attribute(d, "uuid"), DemoCluster.Attribute(d, "resource.kubernetes.io/pciBusID")])]);
            return plugin;
        }).ConfigureAwait(false);

        var pluginOptions = DemoNode.PluginOptions(DriverName, NodeName, baseAddress, registrar, plugins, cdi: Path.Combine(state, "no-cdi")) with
        {
            DataDirectoryOverride = state,
            DeferRegistration = true,
        };
        var proxyOptions = new ProxyOptions { VendorRegistryDirectory = vendorRegistry, VendorPluginsDirectory = vendorPlugins, VendorDriverName = DriverName };
        var components = DemoNode.Components(new SimulatedGpuOptions { DeviceCount = options.Gpus, MemoryBytes = options.GpuMemoryBytes, VramDirectory = vram });

        var proxy = await narrator.StepAsync("Start the driver proxy in front of it", async () =>
        {
            var app = DemoNode.Build(pluginOptions, log.Logger, services => components.RegisterProxy(services, pluginOptions, proxyOptions, SecureDra.Api.Config.Nvidia.NvidiaConfigPolicy.Strict));
            await app.StartAsync(ct).ConfigureAwait(false);
            narrator.Detail($"state {state} (its own checkpoint; no CDI specs, no ResourceSlices of its own)");
            narrator.Detail($"metrics: {DemoMetricsEndpoint.Url(app)}");
            return app;
        }).ConfigureAwait(false);

        await using var proxyLifetime = new DemoScenario.StopOnDispose(proxy);
        await using var kubelet = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = registrar, Profile = KubeletProfile.V1_34 }, TimeProvider.System, log.Factory.CreateLogger("kubelet-emulator"));

        var dra = await narrator.StepAsync("The proxy connects to the vendor, then registers with the kubelet", async () =>
        {
            var registered = await DemoScenario.RegisterAsync(kubelet, "proxy", ct).ConfigureAwait(false);

            narrator.Detail($"vendor registration accepted by the proxy: {vendor.Registered}");
            narrator.Detail($"kubelet registry holds: {string.Join(", ", Directory.GetFileSystemEntries(registrar).Select(Path.GetFileName).Order(StringComparer.Ordinal))} → endpoint {registered.Endpoint} (the proxy's)");
            return registered;
        }).ConfigureAwait(false);

        var claimA = await narrator.StepAsync("Tenant A's claim is allocated gpu-0 and prepared through the proxy", async () =>
        {
            var (name, uid) = await cluster.CreateAllocatedClaimAsync("tenant-a", "training-gpu", "gpu-0", ct).ConfigureAwait(false);
            var result = await DemoScenario.PrepareAsync(dra, "tenant-a", name, uid, ct).ConfigureAwait(false);
            var device = result.Devices.Single();
            narrator.Detail($"claim tenant-a/{name}: device {device.PoolName}/{device.DeviceName}, the vendor's CDI IDs: {string.Join(", ", device.CdiDeviceIds)}");
            await WriteAndCountAsync(narrator, gpu0, offsets, ct).ConfigureAwait(false);
            return new KubeletClaim("tenant-a", name, uid);
        }).ConfigureAwait(false);

        await narrator.StepAsync("Tenant A's pod ends: the vendor releases gpu-0, then the proxy scrubs it", async () =>
        {
            var errors = await dra.UnprepareAsync([claimA], ct).ConfigureAwait(false);
            if (errors.TryGetValue(claimA.Uid, out var error) && error.Length > 0)
            {
                throw new InvalidOperationException($"unprepare failed: {error}");
            }

            narrator.Warn($"after the vendor's Unprepare: canary copies left in gpu-0's memory: {leftByVendor?.ToString(CultureInfo.InvariantCulture) ?? "not measured"} (the vendor does not scrub)");
            var report = await DemoScenario.WaitAsync(() => cluster.LatestNodeEventMessageAsync("VramScrubbed", ct), m => m is not null, "the VramScrubbed event", ct).ConfigureAwait(false);
            narrator.Detail($"scrub report (Event VramScrubbed on Node/{NodeName}): {report}");
            narrator.Good($"after the proxy's scrub: canary copies left in gpu-0's memory: {await DemoScenario.CountCanariesAsync(gpu0, offsets, ct).ConfigureAwait(false)}");
        }).ConfigureAwait(false);

        await narrator.StepAsync("Tenant B is allocated the same GPU and looks for tenant A's data", async () =>
        {
            var (name, uid) = await cluster.CreateAllocatedClaimAsync("tenant-b", "inference-gpu", "gpu-0", ct).ConfigureAwait(false);
            var result = await DemoScenario.PrepareAsync(dra, "tenant-b", name, uid, ct).ConfigureAwait(false);
            var found = await DemoScenario.CountCanariesAsync(gpu0, offsets, ct).ConfigureAwait(false);
            var nonZero = await SimulatedVramFile.CountNonZeroBytesAsync(gpu0, ct).ConfigureAwait(false);
            narrator.Detail($"tenant-b/{name} prepared on {result.Devices.Single().DeviceName}");
            narrator.Good($"canary found: {found} of {offsets.Count}; non-zero bytes in all {DemoScenario.Format(options.GpuMemoryBytes)}: {nonZero}");
            await dra.UnprepareAsync([new KubeletClaim("tenant-b", name, uid)], ct).ConfigureAwait(false);
            narrator.Detail($"proxy metrics: {await MetricsSummaryAsync(DemoMetricsEndpoint.Url(proxy), ct).ConfigureAwait(false)}");
        }).ConfigureAwait(false);

        output.WriteLine();
        output.WriteLine($"Done in {narrator.Elapsed.TotalSeconds:F1} s: the vendor left tenant A's bytes, the proxy's scrub removed them before tenant B got the GPU.");
        if (options.KeepRunning)
        {
            await DemoKeepRunning.WaitAsync(output, "the API server, vendor and proxy", apiServer.BaseAddress, "proxy", DemoMetricsEndpoint.Url(proxy), ct).ConfigureAwait(false);
        }

        await proxy.StopAsync(CancellationToken.None).ConfigureAwait(false);
        return 0;
    }

    private static async Task WriteAndCountAsync(DemoNarrator narrator, string gpu0, IReadOnlyList<long> offsets, CancellationToken ct)
    {
        await DemoScenario.WriteCanaryAsync(gpu0, offsets, ct).ConfigureAwait(false);
        var found = await DemoScenario.CountCanariesAsync(gpu0, offsets, ct).ConfigureAwait(false);
        narrator.Detail($"tenant A writes \"{DemoScenario.Canary}\" into gpu-0's memory at {offsets.Count} offsets; read back: {found}/{offsets.Count} present");
    }

    /// <summary>The lines of the proxy's own /metrics a reader checks: which component, prepared and withdrawn GPUs.</summary>
    private static async Task<string> MetricsSummaryAsync(string url, CancellationToken ct)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(url), ct).ConfigureAwait(false);
        var wanted = text.Split('\n').Where(l =>
            (l.StartsWith("securedra_build_info{", StringComparison.Ordinal) && l.Contains("component=\"proxy\"", StringComparison.Ordinal))
            || l.StartsWith("securedra_prepared_devices ", StringComparison.Ordinal)
            || l.StartsWith("securedra_withdrawn_devices{reason=\"vram_dirty\"}", StringComparison.Ordinal)
            || l.StartsWith("process_resident_memory_bytes ", StringComparison.Ordinal));
        return string.Join("; ", wanted);
    }
}
