using System.Text.Json.Nodes;
using SecureDra.EndToEnd.Tests.Fixture;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.EndToEnd.Tests;

/// <summary>Registration → slices → Prepare → tenant canary → Unprepare → scrubbed, on both DRA gRPC versions.</summary>
public class LifecycleTests
{
    public static TheoryData<string, string, bool> Versions => new()
    {
        // kubelet 1.34 with a 1.34 API server (resource.k8s.io/v1), the API server as its own process
        { "1.34", "v1.DRAPlugin", true },
        // kubelet 1.33 with a 1.33 API server (resource.k8s.io/v1beta2), in process
        { "1.33", "v1beta1.DRAPlugin", false },
    };

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Full_lifecycle_scrubs_the_tenants_canary(string version, string service, bool apiServerProcess)
    {
        await using var node = await E2eNode.StartAsync(new NodeOptions
        {
            KubernetesVersion = version,
            Kubelet = version == "1.33" ? KubeletProfile.V1_33 : KubeletProfile.V1_34,
            ApiServerProcess = apiServerProcess,
        });

        // Registration: the emulated kubelet chose the expected gRPC service from the plugin's list.
        Assert.Equal(service, node.Kubelet.Service);
        Assert.Equal(["v1.DRAPlugin", "v1beta1.DRAPlugin"], node.Kubelet.OfferedServices.Take(2));

        // Slices: one pool named after the node, gpu-0 and gpu-1 with NVIDIA's attribute names.
        await node.WaitForPublishedAsync(node.AllDevices, "after start");
        var slices = await node.SlicesAsync();
        var slice = Assert.Single(slices["items"]!.AsArray())!;
        Assert.Equal(E2eNode.NodeName, slice["spec"]!["pool"]!["name"]!.GetValue<string>());
        Assert.Equal(E2eNode.NodeName, slice["spec"]!["nodeName"]!.GetValue<string>());
        Assert.Equal("Node", slice["metadata"]!["ownerReferences"]![0]!["kind"]!.GetValue<string>());
        var devices = await node.PublishedDevicesAsync();
        var gpu0 = devices["gpu-0"];
        var attributes = gpu0["attributes"]!.AsObject();
        foreach (var name in new[] { "type", "uuid", "productName", "brand", "architecture", "cudaComputeCapability", "driverVersion", "cudaDriverVersion", "index", "minor" })
        {
            Assert.True(attributes.ContainsKey(name), $"attribute {name} missing: {attributes.ToJsonString()}");
        }

        Assert.Equal("gpu", attributes["type"]!["string"]!.GetValue<string>());
        Assert.Equal(0, attributes["index"]!["int"]!.GetValue<int>());
        Assert.Equal(4L * 1024 * 1024, ParseQuantity(gpu0["capacity"]!["memory"]!["value"]!.GetValue<string>()));
        var uuid = attributes["uuid"]!["string"]!.GetValue<string>();

        // Prepare, with a class config and a claim config.
        await node.CreateDeviceClassAsync("gpu", E2eNode.GpuConfig());
        var claim = await node.ClaimDeviceAsync("tenant-a", "gpu-0", claimConfig: E2eNode.GpuConfig(), classConfig: E2eNode.GpuConfig());
        var prepared = await node.PrepareOkAsync(claim);
        var device = Assert.Single(prepared.Devices);
        Assert.Equal(["gpu"], device.RequestNames);
        Assert.Equal(E2eNode.NodeName, device.PoolName);
        Assert.Equal("gpu-0", device.DeviceName);
        Assert.Equal(E2eNode.CdiId(claim.Uid, "gpu-0"), device.CdiDeviceIds[0]);

        // The CDI spec: one device for this GPU, its device node + control nodes, NVIDIA_VISIBLE_DEVICES=void.
        var cdiPath = node.CdiFile(claim.Uid);
        Assert.True(File.Exists(cdiPath), $"CDI spec {cdiPath} missing; CDI dir holds {string.Join(", ", Directory.GetFiles(node.CdiDir))}");
        var cdi = JsonNode.Parse(await File.ReadAllTextAsync(cdiPath))!;
        Assert.Equal($"k8s.{E2eNode.Driver}/claim", cdi["kind"]!.GetValue<string>());
        var cdiDevice = Assert.Single(cdi["devices"]!.AsArray())!;
        Assert.Equal($"{claim.Uid}-gpu-0", cdiDevice["name"]!.GetValue<string>());
        var edits = cdiDevice["containerEdits"]!;
        var paths = edits["deviceNodes"]!.AsArray().Select(n => n!["path"]!.GetValue<string>()).ToList();
        Assert.Contains("/dev/nvidiactl", paths);
        Assert.Contains("/dev/nvidia-uvm", paths);
        Assert.Contains("/dev/nvidia-uvm-tools", paths);
        Assert.Contains("/dev/nvidia0", paths);
        Assert.DoesNotContain("/dev/nvidia1", paths);
        // NVIDIA_VISIBLE_DEVICES=void (as NVIDIA's specs): the NVIDIA runtime injects nothing, so the
        // GPU the container gets is /dev/nvidia0 above, the device whose memory is scrubbed below.
        Assert.Equal(["NVIDIA_VISIBLE_DEVICES=void"], edits["env"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.Contains($"/dev/nvidia{attributes["minor"]!["int"]!.GetValue<int>()}", paths);
        Assert.DoesNotContain(uuid, cdiDevice.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal([$"k8s.{E2eNode.Driver}-claim_{claim.Uid}.json"], Directory.GetFiles(node.CdiDir).Select(Path.GetFileName));

        // The tenant writes a secret into its GPU's memory, then releases the claim.
        node.WriteCanary("gpu-0");
        Assert.False(node.ReadCanarySpots("gpu-0").All(b => b == 0));
        await node.UnprepareOkAsync(claim);
        node.AssertCanaryZeroed("gpu-0");
        Assert.False(File.Exists(cdiPath), "CDI spec left behind after Unprepare");
        Assert.Empty(Directory.GetFiles(node.CdiDir));

        // A verified scrub keeps the device published.
        var after = await node.PublishedDevicesAsync();
        Assert.True(after.ContainsKey("gpu-0"), $"gpu-0 left the slice after a clean scrub: {string.Join(",", after.Keys)}\n{node.Diagnostics()}");
        var metrics = await node.MetricsAsync();
        // Three verified scrubs, each counted once with why it ran: both GPUs at first start (no checkpoint proved them
        // clean), then gpu-0 on release.
        Assert.Contains("securedra_scrubs_total{backend=\"simulated\",target=\"gpu\",trigger=\"startup\",outcome=\"verified\"} 2", metrics, StringComparison.Ordinal);
        Assert.Contains("securedra_scrubs_total{backend=\"simulated\",target=\"gpu\",trigger=\"release\",outcome=\"verified\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("securedra_prepare_total{outcome=\"prepared\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_claim_with_two_requests_and_a_subrequest_gets_base_request_names_and_one_cdi_device_per_gpu()
    {
        await using var node = await E2eNode.StartAsync();
        await node.CreateDeviceClassAsync("gpu");
        var body = node.ClaimBody("multi", "gpu", ["first"], claimConfig: null);
        body["spec"]!["devices"]!["requests"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "second",
            ["firstAvailable"] = new JsonArray(new JsonObject { ["name"] = "small", ["deviceClassName"] = "gpu", ["allocationMode"] = "ExactCount", ["count"] = 1 }),
        });
        await node.SendAsync(HttpMethod.Post, node.ClaimsPath, body);
        var claim = await node.AllocateAsync("multi", [("first", "gpu-0"), ("second/small", "gpu-1")], classConfig: E2eNode.GpuConfig());

        var prepared = await node.PrepareOkAsync(claim);
        Assert.Equal(2, prepared.Devices.Count);
        var byDevice = prepared.Devices.ToDictionary(d => d.DeviceName);
        Assert.Equal(["first"], byDevice["gpu-0"].RequestNames);
        Assert.Equal(["second"], byDevice["gpu-1"].RequestNames);
        Assert.Equal(E2eNode.CdiId(claim.Uid, "gpu-1"), byDevice["gpu-1"].CdiDeviceIds[0]);
        var cdi = JsonNode.Parse(await File.ReadAllTextAsync(node.CdiFile(claim.Uid)))!;
        Assert.Equal(2, cdi["devices"]!.AsArray().Count);

        node.WriteCanary("gpu-0");
        node.WriteCanary("gpu-1");
        await node.UnprepareOkAsync(claim);
        node.AssertCanaryZeroed("gpu-0");
        node.AssertCanaryZeroed("gpu-1");
        await node.WaitForPublishedAsync(node.AllDevices, "both scrubbed clean");
    }

    private static long ParseQuantity(string quantity) =>
        quantity.EndsWith("Mi", StringComparison.Ordinal) ? long.Parse(quantity[..^2], System.Globalization.CultureInfo.InvariantCulture) << 20
        : quantity.EndsWith("Gi", StringComparison.Ordinal) ? long.Parse(quantity[..^2], System.Globalization.CultureInfo.InvariantCulture) << 30
        : quantity.EndsWith("Ki", StringComparison.Ordinal) ? long.Parse(quantity[..^2], System.Globalization.CultureInfo.InvariantCulture) << 10
        : long.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture);
}
