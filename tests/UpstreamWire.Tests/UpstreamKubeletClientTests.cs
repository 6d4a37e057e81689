using System.Text.Json.Nodes;
using SecureDra.Kube.Client;
using SecureDra.LocalCluster.ApiServer;
using Xunit.Abstractions;

namespace SecureDra.UpstreamWire.Tests;

/// <summary>
/// "A client generated from the upstream kubelet protos, not ours, could register the plugin and call it":
/// the real <c>securedra kubelet-plugin</c> process, driven by a Node (@grpc/grpc-js) client that loads the upstream
/// Kubernetes .proto files unchanged, over the real Unix sockets with <c>:authority: localhost</c>.
/// </summary>
public sealed class UpstreamKubeletClientTests(ITestOutputHelper output)
{
    private const string Driver = "gpu.nvidia.com";
    private const string NodeName = "node-1";
    private const string Namespace = "tenant-a";

    [Fact]
    [Trait("Category", "UpstreamProtos")]
    public async Task Upstream_proto_client_registers_the_plugin_prepares_unprepares_and_reads_health()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        using var dir = TempDir.Create();
        var registrar = dir.Sub("reg");
        var plugins = dir.Sub("plugins");
        var cdi = dir.Sub("cdi");

        await using var apiServer = await LocalApiServer.StartAsync(new LocalApiServerOptions { Listen = "127.0.0.1:0", KubernetesVersion = "1.34" }, ct);
        var apiUrl = apiServer.BaseAddress.ToString().TrimEnd('/');
        var cluster = new TestCluster(KubeApiClientFactory.Create(apiUrl), Driver, NodeName);
        await cluster.CreateNodeNamespaceAndClassAsync(Namespace, ct);
        var uid = await cluster.CreateAllocatedClaimAsync(Namespace, "training", "gpu-0", ct);
        const string missingUid = "0b0c1d2e-0000-4000-8000-000000000001";

        using var plugin = PluginProcess.Start(NodeName, apiUrl, registrar, plugins, cdi, gpus: 2);
        var registrationSocket = Path.Combine(registrar, $"{Driver}-reg.sock");
        await plugin.WaitForSocketAsync(registrationSocket, ct);

        var result = await UpstreamKubeletClient.RunAsync(registrationSocket, [(Namespace, "training", uid), (Namespace, "no-such-claim", missingUid)], dir.Path, ct);
        output.WriteLine(result.ToJsonString());

        // The client really is the upstream schema, loaded unchanged: these wire paths come from the upstream files.
        Assert.Equal(
            [
                "/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodePrepareResources",
                "/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodeUnprepareResources",
                "/k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin/NodePrepareResources",
                "/k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin/NodeUnprepareResources",
                "/pluginregistration.Registration/GetInfo",
                "/pluginregistration.Registration/NotifyRegistrationStatus",
                "/v1alpha1.DRAResourceHealth/NodeWatchResources",
            ],
            Strings(result["methods"]));
        Assert.Empty(result["preprocessed"]!.AsArray());

        // Registration, as the kubelet's plugin watcher and DRA handler see it.
        var info = Response(result, "getInfo");
        Assert.Equal("DRAPlugin", info["type"]!.GetValue<string>());
        Assert.Equal(Driver, info["name"]!.GetValue<string>());
        Assert.Equal(Path.Combine(plugins, Driver, "dra.sock"), info["endpoint"]!.GetValue<string>());
        Assert.Equal(["v1.DRAPlugin", "v1beta1.DRAPlugin", "v1alpha1.DRAResourceHealth"], Strings(info["supported_versions"]));
        Response(result, "notify");

        foreach (var version in new[] { "v1", "v1beta1" })
        {
            // Prepare: every requested UID exactly once; the allocated device with its CDI ID; a per-claim error for the absent claim.
            var prepared = Response(result, $"{version}.prepare")["claims"]!.AsObject();
            Assert.Equal([missingUid, uid], prepared.Select(p => p.Key).Order(StringComparer.Ordinal));
            Assert.Equal("", prepared[uid]!["error"]!.GetValue<string>());
            var device = Assert.Single(prepared[uid]!["devices"]!.AsArray())!;
            Assert.Equal(NodeName, device["pool_name"]!.GetValue<string>());
            Assert.Equal("gpu-0", device["device_name"]!.GetValue<string>());
            Assert.Equal(["gpu"], Strings(device["request_names"]));
            Assert.Equal([$"k8s.{Driver}/claim={uid}-gpu-0"], Strings(device["cdi_device_ids"]));
            Assert.Contains("no-such-claim", prepared[missingUid]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Empty(prepared[missingUid]!["devices"]!.AsArray());

            // Unprepare: both UIDs answered; an unknown claim is already unprepared, so no error.
            var unprepared = Response(result, $"{version}.unprepare")["claims"]!.AsObject();
            Assert.Equal([missingUid, uid], unprepared.Select(p => p.Key).Order(StringComparer.Ordinal));
            Assert.All(unprepared, p => Assert.Equal("", p.Value!["error"]!.GetValue<string>()));
        }

        // After the last Unprepare the claim's CDI spec is gone from the CDI root.
        Assert.Empty(Directory.GetFiles(cdi));

        // Health: the first stream message is the complete list for this driver.
        var health = Response(result, "watchHealth")["devices"]!.AsArray();
        Assert.Equal(["gpu-0", "gpu-1"], health.Select(d => d!["device"]!["device_name"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.All(health, d =>
        {
            Assert.Equal(NodeName, d!["device"]!["pool_name"]!.GetValue<string>());
            Assert.Equal("HEALTHY", d["health"]!.GetValue<string>());
            Assert.True(long.Parse(d["last_updated_time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        });
    }

    private static JsonObject Response(JsonObject result, string call)
    {
        var outcome = result["calls"]?[call];
        Assert.True(outcome is not null, $"the client never made the {call} call: {result.ToJsonString()}");
        Assert.True(outcome["grpcError"] is null, $"{call} failed: {outcome["grpcError"]?.ToJsonString()}");
        return outcome["response"]!.AsObject();
    }

    private static string[] Strings(JsonNode? array) => [.. array!.AsArray().Select(n => n!.GetValue<string>())];
}
