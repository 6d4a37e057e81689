using System.Text.Json.Nodes;
using SecureDra.EndToEnd.Tests.Fixture;

namespace SecureDra.EndToEnd.Tests;

/// <summary>The API server answers 500, 409 or nothing while the plugin publishes: its slices still converge.</summary>
public class ApiServerFaultTests
{
    [Fact]
    public async Task Slices_converge_after_500s_409s_and_a_hang_on_start()
    {
        await using var node = await E2eNode.StartAsync(new NodeOptions { ExtraPluginArgs = ["--kube-request-timeout", "1s"] });
        await node.WaitForPublishedAsync(node.AllDevices, "first start");
        await node.KillPluginAsync();

        // The kubelet wipes a restarting plugin's slices; then every kind of failure on the way back.
        var slices = $"/apis/resource.k8s.io/{node.ResourceVersion}/resourceslices";
        foreach (var item in (await node.SlicesAsync())["items"]!.AsArray())
        {
            await node.SendAsync(HttpMethod.Delete, $"apis/resource.k8s.io/{node.ResourceVersion}/resourceslices/{item!["metadata"]!["name"]!.GetValue<string>()}");
        }

        await node.AddFaultAsync(new JsonObject { ["count"] = 1, ["status"] = 500, ["method"] = "GET", ["pathPrefix"] = slices });
        await node.AddFaultAsync(new JsonObject { ["count"] = 1, ["hang"] = true, ["method"] = "POST", ["pathPrefix"] = slices });
        await node.AddFaultAsync(new JsonObject { ["count"] = 1, ["status"] = 500, ["method"] = "POST", ["pathPrefix"] = slices });
        await node.AddFaultAsync(new JsonObject { ["count"] = 1, ["status"] = 409, ["method"] = "POST", ["pathPrefix"] = slices });
        await node.StartPluginAsync();

        await node.WaitForPublishedAsync(node.AllDevices, "the faults were used up");
        Assert.Single((await node.SlicesAsync())["items"]!.AsArray());
        var pending = await node.SendAsync(HttpMethod.Get, "_securedra/faults");
        Assert.True(pending["items"]!.AsArray().Count == 0, $"faults not all met by the plugin: {pending.ToJsonString()}");
        Assert.Contains("securedra_resourceslice_writes_total", await node.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_withdrawal_is_published_through_500s_and_409s_on_slice_updates()
    {
        await using var node = await E2eNode.StartAsync(new NodeOptions { ExtraPluginArgs = ["--kube-request-timeout", "1s"] });
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("withdrawn", "gpu-1");
        await node.PrepareOkAsync(claim);
        await node.WaitForPublishedAsync(node.AllDevices, "before the faults");

        var slices = $"/apis/resource.k8s.io/{node.ResourceVersion}/resourceslices";
        foreach (var method in new[] { "PUT", "POST", "DELETE" })
        {
            await node.AddFaultAsync(new JsonObject { ["count"] = 2, ["status"] = 500, ["method"] = method, ["pathPrefix"] = slices });
            await node.AddFaultAsync(new JsonObject { ["count"] = 1, ["status"] = 409, ["method"] = method, ["pathPrefix"] = slices });
        }

        node.SetGpuFaults("gpu-1", new JsonObject { ["failVerification"] = true });
        await node.UnprepareOkAsync(claim);
        Assert.False((await node.PublishedDevicesAsync()).ContainsKey("gpu-1"), $"gpu-1 published after its withdrawal was reported\n{node.Diagnostics()}");

        node.ClearGpuFaults("gpu-1");
        await node.WaitForPublishedAsync(node.AllDevices, "gpu-1 returned after a verified scrub");
    }
}
