using System.Text.Json.Nodes;
using SecureDra.EndToEnd.Tests.Fixture;

namespace SecureDra.EndToEnd.Tests;

/// <summary>
/// Fail closed: when a scrub cannot be verified the device leaves scheduling before Unprepare reports
/// success, stays out while it is dirty, and comes back only after the retry loop verifies a scrub.
/// </summary>
public class ScrubFailureTests
{
    public enum Fault
    {
        DeletedVramFile,
        FailedVerification,
        RunningProcess,
    }

    [Theory]
    [InlineData(Fault.DeletedVramFile)]
    [InlineData(Fault.FailedVerification)]
    [InlineData(Fault.RunningProcess)]
    public async Task A_device_that_fails_its_scrub_is_withdrawn_before_unprepare_returns_and_returns_once_clean(Fault fault)
    {
        await using var node = await E2eNode.StartAsync();
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("dirty", "gpu-0");
        await node.PrepareOkAsync(claim);
        node.WriteCanary("gpu-0");

        Inject(node, fault);
        await node.UnprepareOkAsync(claim);

        // Right after Unprepare returned: the scheduler can no longer see the device.
        var published = await node.PublishedDevicesAsync();
        Assert.False(published.ContainsKey("gpu-0"), $"gpu-0 is still published after a failed scrub ({fault})\n{node.Diagnostics()}");
        Assert.True(published.ContainsKey("gpu-1"), "the healthy gpu-1 must stay published");
        Assert.False(File.Exists(node.CdiFile(claim.Uid)), "CDI spec left behind");

        // The retry loop keeps failing while the fault lasts: the device stays out.
        await Poll.StaysAsync(async () => !(await node.PublishedDevicesAsync()).ContainsKey("gpu-0"), "gpu-0 stays withdrawn while dirty", TimeSpan.FromSeconds(1), node.Diagnostics);
        Assert.Matches("securedra_scrubs_total\\{backend=\"simulated\",target=\"gpu\",trigger=\"release\",outcome=\"(not_verified|refused|timeout|error)\"\\} [1-9]", await node.MetricsAsync());

        // A second Unprepare (the kubelet may repeat) still succeeds and changes nothing.
        await node.UnprepareOkAsync(claim);

        Clear(node, fault);
        await node.WaitForPublishedAsync(node.AllDevices, "the retry loop verified a scrub of gpu-0");
        if (fault != Fault.DeletedVramFile)
        {
            node.AssertCanaryZeroed("gpu-0");
        }

        // And the device serves the next tenant.
        var next = await node.ClaimDeviceAsync("next-tenant", "gpu-0");
        await node.PrepareOkAsync(next);
        await node.UnprepareOkAsync(next);
    }

    [Fact]
    public async Task When_the_withdrawal_cannot_be_published_the_claim_gets_an_error_until_it_can()
    {
        await using var node = await E2eNode.StartAsync(new NodeOptions { ExtraPluginArgs = ["--unprepare-budget", "2s"] });
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("stuck", "gpu-0");
        await node.PrepareOkAsync(claim);
        await node.WaitForPublishedAsync(node.AllDevices, "before the faults");

        node.SetGpuFaults("gpu-0", new JsonObject { ["failVerification"] = true });
        foreach (var method in new[] { "POST", "PUT", "PATCH", "DELETE" })
        {
            await node.AddFaultAsync(new JsonObject { ["count"] = 100_000, ["status"] = 500, ["method"] = method, ["pathPrefix"] = $"/apis/resource.k8s.io/{node.ResourceVersion}/resourceslices" });
        }

        var error = await node.UnprepareOneAsync(claim);
        Assert.Contains("withdrawal could not be published", error, StringComparison.Ordinal);
        Assert.Contains("gpu-0", error, StringComparison.Ordinal);

        // Still failing: still an error, never a silent success.
        Assert.NotEmpty(await node.UnprepareOneAsync(claim));

        // The API server recovers; the kubelet keeps calling until the publisher (possibly still in its
        // backoff) has the withdrawal out, and only then is the claim released.
        await node.ClearFaultsAsync();
        await Poll.UntilAsync(async () => (await node.UnprepareOneAsync(claim)).Length == 0, "a repeated Unprepare succeeds", node.Diagnostics, TimeSpan.FromSeconds(40));
        Assert.False((await node.PublishedDevicesAsync()).ContainsKey("gpu-0"), $"gpu-0 published after Unprepare reported its withdrawal\n{node.Diagnostics()}");

        node.ClearGpuFaults("gpu-0");
        await node.WaitForPublishedAsync(node.AllDevices, "gpu-0 scrubbed by the retry loop");
    }

    private static void Inject(E2eNode node, Fault fault)
    {
        switch (fault)
        {
            case Fault.DeletedVramFile:
                File.Delete(node.VramFile("gpu-0"));
                break;
            case Fault.FailedVerification:
                node.SetGpuFaults("gpu-0", new JsonObject { ["failVerification"] = true });
                break;
            case Fault.RunningProcess:
                node.SetGpuFaults("gpu-0", new JsonObject { ["runningProcesses"] = new JsonArray(new JsonObject { ["pid"] = 4242, ["usedMemoryBytes"] = 1 << 20 }) });
                break;
        }
    }

    private static void Clear(E2eNode node, Fault fault)
    {
        if (fault == Fault.DeletedVramFile)
        {
            // The "GPU" is back: a fresh backing file of the device's size.
            using var file = new FileStream(node.VramFile("gpu-0"), FileMode.CreateNew, FileAccess.Write);
            file.SetLength(4L * 1024 * 1024);
        }
        else
        {
            node.ClearGpuFaults("gpu-0");
        }
    }
}
