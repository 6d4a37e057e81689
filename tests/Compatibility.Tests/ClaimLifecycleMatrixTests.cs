using System.Text.Json.Nodes;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.Compatibility.Tests;

/// <summary>
/// The compatibility matrix: for each Kubernetes release, the full claim lifecycle against the local API
/// server in that release's mode, the kubelet emulator speaking that kubelet's DRA gRPC versions, and the
/// real plugin process on simulated GPUs.
/// </summary>
public class ClaimLifecycleMatrixTests
{
    public static TheoryData<string> Releases => ["1.32", "1.33", "1.34", "1.35", "1.36"];

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task Full_claim_lifecycle(string version)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        await using var cluster = await Cluster.StartAsync(version);
        var release = cluster.Release;

        // Registration: the service this kubelet picks from the plugin's list.
        var plugin = await cluster.WaitForRegistrationAsync(ct);
        Assert.Equal(release.ExpectedGrpcService, plugin.Service);
        Assert.Equal(["v1.DRAPlugin", "v1beta1.DRAPlugin"], plugin.OfferedServices.Where(s => s.EndsWith(".DRAPlugin", StringComparison.Ordinal)));

        // Slices: published in the served version, in that version's shape.
        var slices = await cluster.WaitForSlicesAsync(s => s.Sum(x => Cluster.Devices(x).Count) == 2, ct);
        var slice = Assert.Single(slices);
        Assert.Equal($"resource.k8s.io/{release.ExpectedApiVersion}", slice["apiVersion"]!.GetValue<string>());
        Assert.Equal(PluginProcess.NodeName, slice["spec"]!["pool"]!["name"]!.GetValue<string>());
        Assert.Equal("Node", slice["metadata"]!["ownerReferences"]![0]!["kind"]!.GetValue<string>());
        foreach (var published in Cluster.Devices(slice).Select(d => d!.AsObject()))
        {
            if (release.FlatShape)
            {
                Assert.True(published["basic"] is JsonObject, $"v1beta1 device without basic: {published.ToJsonString()}");
                Assert.NotNull(published["basic"]!["attributes"]);
                Assert.Null(published["attributes"]);
            }
            else
            {
                Assert.Null(published["basic"]);
                Assert.NotNull(published["attributes"]);
            }
        }

        var deviceNames = Cluster.Devices(slice).Select(d => d!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["gpu-0", "gpu-1"], deviceNames);

        // Device health: kubelets from 1.34 open the v1alpha1.DRAResourceHealth stream at registration.
        if (release.Kubelet.HealthStreamFields > 0)
        {
            using var healthCancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var health = plugin.WatchHealth(healthCancel.Token);
            Assert.True(await health.ResponseStream.MoveNext(ct));
            var report = health.ResponseStream.Current;
            Assert.Equal(["gpu-0", "gpu-1"], report.Devices.Select(d => d.Device.DeviceName).Order(StringComparer.Ordinal));
            Assert.All(report.Devices, d =>
            {
                Assert.Equal(PluginProcess.NodeName, d.Device.PoolName);
                Assert.Equal(SecureDra.Protocol.Health.V1Alpha1.HealthStatus.Healthy, d.Health);
                Assert.True(d.HealthCheckTimeoutSeconds > 0, "field 4 (1.35+) is always sent; older kubelets ignore it");
            });
            await healthCancel.CancelAsync();
        }

        // /readyz and the metric name the version in use.
        var ready = await cluster.Plugin.WaitReadyAsync(ct);
        Assert.Equal($"resource.k8s.io/{release.ExpectedApiVersion}", ready["checks"]!["resource-api"]!["detail"]!.GetValue<string>());
        Assert.Contains($"securedra_resource_api_version_info{{version=\"{release.ExpectedApiVersion}\"}} 1", await cluster.Plugin.MetricsAsync(ct), StringComparison.Ordinal);

        // A claim in the served version's shape, allocated by writing status as the scheduler does.
        var claimName = "train-" + version.Replace('.', '-');
        var created = await cluster.Api.CreateAsync(release.Path("resourceclaims", "default"), ClaimShapes.Claim(release, claimName));
        var uid = created["metadata"]!["uid"]!.GetValue<string>();
        created["status"] = ClaimShapes.Allocation("gpu-0");
        var allocated = await cluster.Api.PutAsync(release.Path("resourceclaims", "default", claimName, "status"), created);
        Assert.Equal("gpu-0", allocated["status"]!["allocation"]!["devices"]!["results"]![0]!["device"]!.GetValue<string>());

        // Prepare: the device and its CDI ID on the kubelet's gRPC version.
        var claim = new KubeletClaim("default", claimName, uid);
        var prepared = (await plugin.PrepareAsync([claim], ct))[uid];
        Assert.True(prepared.Error.Length == 0, prepared.Error + "\n" + cluster.Plugin.Output);
        var device = Assert.Single(prepared.Devices);
        Assert.Equal(PluginProcess.NodeName, device.PoolName);
        Assert.Equal("gpu-0", device.DeviceName);
        Assert.Equal(["gpu"], device.RequestNames);
        var cdiId = Assert.Single(device.CdiDeviceIds);
        Assert.StartsWith("k8s.gpu.nvidia.com/", cdiId, StringComparison.Ordinal);
        Assert.Null(device.ShareId); // a whole GPU is not multi-allocatable: no share ID on any version
        Assert.Contains(Directory.EnumerateFiles(cluster.Plugin.CdiRoot), f => File.ReadAllText(f).Contains(uid, StringComparison.Ordinal));

        // The tenant leaves a canary in VRAM; after Unprepare the scrub has zeroed all of it.
        var vram = cluster.Plugin.VramPath("gpu-0");
        var size = new FileInfo(vram).Length;
        TenantCanary.Write(vram, Canary, 0, size / 2, size - 4096);
        Assert.True(TenantCanary.HasNonZero(vram));

        var released = (await plugin.UnprepareAsync([claim], ct))[uid];
        Assert.True(released.Length == 0, released + "\n" + cluster.Plugin.Output);
        Assert.False(TenantCanary.HasNonZero(vram), "canary survived Unprepare: VRAM not scrubbed");
        Assert.DoesNotContain(Directory.EnumerateFiles(cluster.Plugin.CdiRoot), f => File.ReadAllText(f).Contains(uid, StringComparison.Ordinal));

        // The scrubbed device is offered again.
        await cluster.WaitForSlicesAsync(s => s.Sum(x => Cluster.Devices(x).Count) == 2, ct);
        Assert.Equal(0, await cluster.Plugin.StopAsync(ct));

        // Every resource.k8s.io request, the plugin's and the test's, used the negotiated version; older releases never saw a newer one.
        var requests = cluster.ResourceApiRequests();
        Assert.Contains(requests, r => r.Version == release.ExpectedApiVersion && r.Resource == "resourceslices" && r.Verb == "create");
        Assert.Contains(requests, r => r.Version == release.ExpectedApiVersion && r.Resource == "resourceclaims" && r.Verb == "get" && r.Name == claimName);
        Assert.All(requests.Where(r => r.Version is not null), r => Assert.Equal(release.ExpectedApiVersion, r.Version));
        foreach (var never in release.NeverSent)
        {
            Assert.DoesNotContain(cluster.Server.RequestLog.Entries, r => r.Group == KubernetesRelease.Group && r.Version == never);
            Assert.False(cluster.Server.RequestLog.Any($"/apis/resource.k8s.io/{never}/"), $"a resource.k8s.io/{never} request reached a {version} API server");
        }
    }

    /// <summary>A page of 0xA5: the previous tenant's data, non-zero everywhere.</summary>
    private static readonly byte[] Canary = Enumerable.Repeat((byte)0xA5, 4096).ToArray();
}
