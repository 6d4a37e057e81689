using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using SecureDra.EndToEnd.Tests.Fixture;

namespace SecureDra.EndToEnd.Tests;

/// <summary>
/// Issue 10: the edges of a device's life, each through the real binary, the real sockets and a
/// canary in simulated VRAM. Each used to leak or wedge; each must now fail safe.
/// </summary>
public class IsolationEdgeTests
{
    [Fact]
    public async Task Item1_a_claim_the_tenant_deleted_stays_prepared_and_its_gpu_is_not_handed_to_the_next_tenant()
    {
        await using var node = await E2eNode.StartAsync(new NodeOptions
        {
            PluginEnvironment = new Dictionary<string, string> { ["SECUREDRA_STALE_CLAIM_CHECK_INTERVAL_MS"] = "100" },
        });
        await node.CreateDeviceClassAsync("gpu");
        var first = await node.ClaimDeviceAsync("tenant-a", "gpu-0");
        await node.PrepareOkAsync(first);
        node.WriteCanary("gpu-0");

        // The tenant deletes its own claim while its container still runs; the scheduler now sees gpu-0 free.
        await node.SendAsync(HttpMethod.Delete, node.ClaimPath("tenant-a"));
        await Poll.UntilAsync(
            async () => (await node.MetricsAsync()).Contains("securedra_stale_claims_total{kind=\"deleted\"} 1", StringComparison.Ordinal)
                && (await node.NodeEventsAsync("PreparedClaimGone")).Count > 0,
            "the reaper reported the deleted claim (metric and Node Event)", node.Diagnostics, TimeSpan.FromSeconds(30));
        var reported = Assert.Single(await node.NodeEventsAsync("PreparedClaimGone"));
        Assert.Contains("tenant-a", reported["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // Reported, not released: the CDI spec and the tenant's data stay, and nobody else gets the GPU.
        Assert.True(File.Exists(node.CdiFile(first.Uid)));
        Assert.False(node.ReadCanarySpots("gpu-0").All(b => b == 0));
        var second = await node.ClaimDeviceAsync("tenant-b", "gpu-0");
        var refused = await node.PrepareOneAsync(second);
        Assert.Contains("prepared for another claim", refused.Error, StringComparison.Ordinal);

        // Only the kubelet's Unprepare releases it, with a scrub; then the next tenant may have it.
        await node.UnprepareOkAsync(first);
        node.AssertCanaryZeroed("gpu-0");
        await node.PrepareOkAsync(second);
    }

    [Fact]
    public async Task Item2_a_wiped_plugin_directory_scrubs_every_gpu_before_publishing_it()
    {
        await using var node = await E2eNode.StartAsync();
        await node.KillPluginAsync();
        Directory.Delete(Path.GetDirectoryName(node.CheckpointPath)!, recursive: true);
        node.WriteCanary("gpu-0");
        node.WriteCanary("gpu-1");
        node.SetGpuFaults("gpu-1", new JsonObject { ["failVerification"] = true });

        await node.StartPluginAsync();

        node.AssertCanaryZeroed("gpu-0");
        await node.WaitForPublishedAsync(["gpu-0"], "only the GPU whose scrub verified is published");
        await node.CreateDeviceClassAsync("gpu");
        var refused = await node.PrepareOneAsync(await node.ClaimDeviceAsync("on-unverified", "gpu-1"));
        Assert.Contains("withdrawn from scheduling", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Item2_following_the_corrupt_checkpoint_advice_never_publishes_a_gpu_whose_scrub_failed()
    {
        await using var node = await E2eNode.StartAsync();
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("held", "gpu-1");
        await node.PrepareOkAsync(claim);
        node.WriteCanary("gpu-1");
        node.SetGpuFaults("gpu-1", new JsonObject { ["failVerification"] = true });
        await node.UnprepareOkAsync(claim);
        await node.WaitForPublishedAsync(["gpu-0"], "gpu-1 withdrawn after its failed scrub");
        await node.KillPluginAsync();

        var bytes = await File.ReadAllBytesAsync(node.CheckpointPath);
        bytes[^3] ^= 0x20;
        await File.WriteAllBytesAsync(node.CheckpointPath, bytes);
        await using (var refused = SecuredraProcess.Start("kubelet-plugin", node.PluginArgs()))
        {
            await refused.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains($"mv {node.CheckpointPath} {node.CheckpointPath}.bad", refused.Output, StringComparison.Ordinal);
        }

        // The advice, followed: the node is drained (nothing holds a GPU), move the file aside, restart.
        File.Move(node.CheckpointPath, node.CheckpointPath + ".bad");
        await node.StartPluginAsync();
        await node.WaitForPublishedAsync(["gpu-0"], "gpu-1 stays withdrawn: its start-up scrub does not verify either");
        var next = await node.PrepareOneAsync(await node.ClaimDeviceAsync("next-tenant", "gpu-1"));
        Assert.Contains("withdrawn from scheduling", next.Error, StringComparison.Ordinal);

        // Once the GPU verifies, it returns with its memory zeroed.
        node.ClearGpuFaults("gpu-1");
        await node.WaitForPublishedAsync(["gpu-0", "gpu-1"], "gpu-1 back after a verified retry scrub");
        node.AssertCanaryZeroed("gpu-1");
    }

    [Fact]
    public async Task Item4_a_crash_in_the_release_window_does_not_wedge_start_up()
    {
        await using var node = await E2eNode.StartAsync();
        await node.CreateDeviceClassAsync("gpu");
        await node.CreateClaimAsync("both", "gpu");
        var both = await node.AllocateAsync("both", [("gpu", "gpu-0"), ("gpu", "gpu-1")]);
        await node.PrepareOkAsync(both);
        node.WriteCanary("gpu-1");

        // gpu-1's scrub crawls; gpu-0's finishes at once and is handed to the next claim.
        node.SetGpuFaults("gpu-1", new JsonObject { ["memoryDelayMs"] = 600_000 });
        var releasing = node.UnprepareOneAsync(both);
        var next = await node.ClaimDeviceAsync("next", "gpu-0");
        string? error = "";
        await Poll.UntilAsync(
            async () => (error = (await node.PrepareOneAsync(next)).Error).Length == 0,
            "gpu-0 scrubbed and prepared for the next claim while gpu-1 still scrubs", () => error + "\n" + node.Diagnostics(), TimeSpan.FromSeconds(20));
        var answer = await node.PrepareOkAsync(next);
        Assert.False(releasing.IsCompleted, "the release of both GPUs finished before the crash: the window was missed");

        // The OOM killer strikes while gpu-1 is still scrubbing.
        await node.KillPluginAsync();
        try
        {
            await releasing;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // the kubelet saw the call fail
        }

        node.ClearGpuFaults("gpu-1");
        await node.StartPluginAsync(); // used to refuse: CheckpointCorruptException

        Assert.Equal(answer.Devices[0].CdiDeviceIds, (await node.PrepareOkAsync(next)).Devices[0].CdiDeviceIds);
        await node.UnprepareOkAsync(both);
        await node.WaitForPublishedAsync(["gpu-0", "gpu-1"], "gpu-1 back after a verified scrub");
        node.AssertCanaryZeroed("gpu-1");
    }

    [Theory]
    [InlineData("migEnabled")]
    [InlineData("migPending")]
    public async Task Item5_a_gpu_in_mig_mode_is_withdrawn_with_reason_MigModeEnabled(string mode)
    {
        await using var node = await E2eNode.StartAsync();
        await node.KillPluginAsync();
        node.SetGpuFaults("gpu-1", new JsonObject { [mode] = true });
        await node.StartPluginAsync();

        await node.WaitForPublishedAsync(["gpu-0"], "gpu-1 withdrawn for MIG mode");
        Assert.Contains("securedra_mig_mode_withdrawals_total{change=\"withdrawn\"} 1", await node.MetricsAsync(), StringComparison.Ordinal);
        var evidence = Assert.Single(await node.NodeEventsAsync("MigModeEnabled"));
        Assert.Contains("gpu-1", evidence["message"]!.GetValue<string>(), StringComparison.Ordinal);
        await node.CreateDeviceClassAsync("gpu");
        var refused = await node.PrepareOneAsync(await node.ClaimDeviceAsync("on-mig", "gpu-1"));
        Assert.Contains("MigModeEnabled", refused.Error, StringComparison.Ordinal);

        // MIG off: it returns only after a verified scrub.
        node.ClearGpuFaults("gpu-1");
        await node.RestartPluginAsync();
        await node.WaitForPublishedAsync(["gpu-0", "gpu-1"], "gpu-1 back after MIG mode is off and a scrub verified");
    }

    [Theory]
    [InlineData("""{"claims":null}""", "field claims is null")]
    [InlineData("""{"claims":{"00000000-0000-4000-8000-000000000001":{"state":"Prepared","devices":[null]}}}""", "devices is null")]
    [InlineData("""{"claims":{"00000000-0000-4000-8000-000000000001":{"state":"ScrubFailed","devices":[],"dirtyDevices":[null]}}}""", "dirtyDevices")]
    [InlineData("""{"claims":{"00000000-0000-4000-8000-000000000001":{"state":"Sideways","devices":[]}}}""", "not valid checkpoint JSON")]
    [InlineData("""{"claims":{},"devices":{"gpu-0":{"uuid":"x","state":"Clean"},"gpu-0":{"uuid":"x","state":"Clean"}}}""", "not valid checkpoint JSON")]
    [InlineData("""{"claims":{},"x":"\uD800"}""", "cannot be written back")]
    public async Task Item6_a_malformed_checkpoint_is_the_documented_corrupt_error_never_a_crash(string json, string problem)
    {
        await using var node = await E2eNode.StartAsync();
        await node.KillPluginAsync();
        var payload = Encoding.UTF8.GetBytes(json);
        var header = Encoding.ASCII.GetBytes($"SECUREDRA-CHECKPOINT 1 sha256={Convert.ToHexStringLower(SHA256.HashData(payload))} bytes={payload.Length}\n");
        await File.WriteAllBytesAsync(node.CheckpointPath, [.. header, .. payload]);

        await using var plugin = SecuredraProcess.Start("kubelet-plugin", node.PluginArgs());
        await plugin.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, plugin.ExitCode);
        Assert.Contains(problem, plugin.Output, StringComparison.Ordinal);
        Assert.Contains($"checkpoint {node.CheckpointPath} is corrupt", plugin.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", plugin.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("NullReferenceException", plugin.Output, StringComparison.Ordinal);
    }
}
