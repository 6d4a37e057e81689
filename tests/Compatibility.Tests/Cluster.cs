using System.Text.Json.Nodes;
using SecureDra.LocalCluster.ApiServer;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.Compatibility.Tests;

/// <summary>
/// One emulated node of one Kubernetes release: the in-process local API server in that release's mode
/// (so the test reads its request log), the kubelet emulator with that release's gRPC versions, and the
/// real plugin process on simulated GPUs.
/// </summary>
public sealed class Cluster : IAsyncDisposable
{
    private readonly TempDir _dir;

    private Cluster(KubernetesRelease release, TempDir dir, LocalApiServer server, ApiHttp api, KubeletEmulator kubelet, PluginProcess plugin)
    {
        Release = release;
        _dir = dir;
        Server = server;
        Api = api;
        Kubelet = kubelet;
        Plugin = plugin;
    }

    public KubernetesRelease Release { get; }
    public LocalApiServer Server { get; }
    public ApiHttp Api { get; }
    public KubeletEmulator Kubelet { get; }
    public PluginProcess Plugin { get; }

    public static async Task<Cluster> StartAsync(
        string version, int gpus = 2, string memory = "8Mi", bool? deviceTaints = null, IEnumerable<string>? pluginArgs = null)
    {
        var release = KubernetesRelease.All[version];
        var dir = TempDir.Create();
        var server = await LocalApiServer.StartAsync(
            new LocalApiServerOptions { Listen = "127.0.0.1:0", KubernetesVersion = version, DeviceTaints = deviceTaints },
            CancellationToken.None);
        var api = new ApiHttp(server.BaseAddress);
        // The node exists before its plugin starts, so slices get their owner reference at once.
        await api.CreateAsync("/api/v1/nodes", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject { ["name"] = PluginProcess.NodeName },
        });
        var plugin = PluginProcess.Start(dir, server.BaseAddress, gpus, memory, pluginArgs);
        await plugin.EnsureListeningAsync(); // restarted on a fresh port if a parallel test took its HTTP port first
        var kubelet = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = plugin.RegistrarDirectory, Profile = release.Kubelet });
        kubelet.Start();
        return new Cluster(release, dir, server, api, kubelet, plugin);
    }

    /// <summary>Waits for the kubelet to register the plugin; on timeout, fails with the kubelet's refusals and the plugin's log.</summary>
    public async Task<RegisteredDraPlugin> WaitForRegistrationAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await Kubelet.WaitForPluginAsync(PluginProcess.DriverName, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the kubelet never registered the plugin; refusals: {string.Join("; ", Kubelet.Failures.Select(f => f.Key + ": " + f.Value))}\nplugin output:\n{Plugin.Output}");
            throw;
        }
    }

    /// <summary>This node's slices of the driver, read in the release's API version.</summary>
    public async Task<IReadOnlyList<JsonObject>> SlicesAsync()
    {
        var list = await Api.GetAsync(Release.Path("resourceslices") + $"?fieldSelector=spec.nodeName={PluginProcess.NodeName},spec.driver={PluginProcess.DriverName}");
        return [.. list["items"]!.AsArray().Select(i => i!.AsObject())];
    }

    /// <summary>Polls until this node's pool is complete (resourceSliceCount slices of one generation) and <paramref name="done"/> holds.</summary>
    public async Task<IReadOnlyList<JsonObject>> WaitForSlicesAsync(Func<IReadOnlyList<JsonObject>, bool> done, CancellationToken cancellationToken)
    {
        while (true)
        {
            Assert.False(Plugin.HasExited, $"the plugin exited:\n{Plugin.Output}");
            var slices = await SlicesAsync();
            if (slices.Count > 0
                && slices.Select(s => s["spec"]!["pool"]!["generation"]!.GetValue<long>()).Distinct().Count() == 1
                && slices.All(s => s["spec"]!["pool"]!["resourceSliceCount"]!.GetValue<long>() == slices.Count)
                && done(slices))
            {
                return slices;
            }

            try
            {
                await Task.Delay(50, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"slices never reached the expected state; last seen:\n{string.Join("\n", slices.Select(s => s.ToJsonString()))}\nplugin output:\n{Plugin.Output}");
            }
        }
    }

    public static JsonArray Devices(JsonObject slice) => slice["spec"]!["devices"]?.AsArray() ?? [];

    /// <summary>Request-log entries for resource.k8s.io, grouped by version.</summary>
    public IReadOnlyList<RequestLogEntry> ResourceApiRequests() =>
        [.. Server.RequestLog.Entries.Where(e => e.Group == KubernetesRelease.Group)];

    public async ValueTask DisposeAsync()
    {
        await Plugin.DisposeAsync();
        await Kubelet.DisposeAsync();
        Api.Dispose();
        await Server.DisposeAsync();
        _dir.Dispose();
    }
}
