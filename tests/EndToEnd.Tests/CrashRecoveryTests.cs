using System.Text.Json.Nodes;
using Grpc.Core;
using SecureDra.EndToEnd.Tests.Fixture;

namespace SecureDra.EndToEnd.Tests;

/// <summary>
/// kill -9 between every pair of durable steps (SECUREDRA_CRASH_AT makes the real plugin process SIGKILL
/// itself there), restart without it, and check: the checkpoint loads, no dirty device is published, no CDI
/// spec is left for a claim that is not prepared, and the claim can be prepared and released again.
/// </summary>
public class CrashRecoveryTests
{
    [Theory]
    [InlineData("prepare:after-checkpoint-started")]
    [InlineData("prepare:after-cdi")]
    [InlineData("prepare:after-checkpoint-prepared")]
    public async Task Crash_during_prepare(string crashAt)
    {
        await using var node = await E2eNode.StartAsync(new NodeOptions { CrashAt = crashAt });
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("crashy", "gpu-0");

        await Assert.ThrowsAsync<RpcException>(() => node.Kubelet.PrepareAsync([claim]));
        await node.WaitForPluginDeathAsync();
        await node.RestartPluginAsync();

        var cdi = node.CdiFile(claim.Uid);
        if (crashAt == "prepare:after-checkpoint-prepared")
        {
            // Prepared before the crash: the restarted plugin knows it and answers the kubelet's retry from the checkpoint.
            Assert.True(File.Exists(cdi), "the CDI spec of a prepared claim was lost");
            var again = await node.PrepareOkAsync(claim);
            Assert.Equal("gpu-0", Assert.Single(again.Devices).DeviceName);
            Assert.Contains("securedra_prepare_total{outcome=\"idempotent\"} 1", await node.MetricsAsync(), StringComparison.Ordinal);
        }
        else
        {
            // Never answered: rolled back at start-up, nothing left behind.
            Assert.False(File.Exists(cdi), $"leaked CDI spec {cdi} after a rolled-back prepare\n{node.Diagnostics()}");
            AssertNoTempFiles(node);
            await node.PrepareOkAsync(claim);
        }

        // No container ever ran on a rolled-back prepare: nothing is withdrawn.
        await node.WaitForPublishedAsync(node.AllDevices, "after the restart");
        node.WriteCanary("gpu-0");
        await node.UnprepareOkAsync(claim);
        node.AssertCanaryZeroed("gpu-0");
        Assert.Empty(Directory.GetFiles(node.CdiDir));
        Assert.True((await node.PublishedDevicesAsync()).ContainsKey("gpu-0"));
    }

    [Theory]
    [InlineData("unprepare:after-checkpoint-started", true)]
    [InlineData("unprepare:after-scrub", true)]
    [InlineData("unprepare:after-cdi-delete", true)]
    [InlineData("unprepare:after-checkpoint-done", false)]
    public async Task Crash_during_unprepare(string crashAt, bool dirtyAfterRestart)
    {
        await using var node = await E2eNode.StartAsync(new NodeOptions { CrashAt = crashAt });
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("crashy", "gpu-0");
        await node.PrepareOkAsync(claim);
        node.WriteCanary("gpu-0");

        await Assert.ThrowsAsync<RpcException>(() => node.Kubelet.UnprepareAsync([claim]));
        await node.WaitForPluginDeathAsync();

        // Keep the retry scrub failing after the restart, so "withdrawn until scrubbed" is observable.
        node.SetGpuFaults("gpu-0", new JsonObject { ["failVerification"] = true });
        await node.RestartPluginAsync();

        if (dirtyAfterRestart)
        {
            // Mid-unprepare: the tenant may have left data; the device must leave the slice and stay out.
            await node.WaitForPublishedAsync(["gpu-1"], "gpu-0 withdrawn as dirty after the crash");
            await Poll.StaysAsync(async () => !(await node.PublishedDevicesAsync()).ContainsKey("gpu-0"), "gpu-0 stays withdrawn while its scrub fails", TimeSpan.FromMilliseconds(800), node.Diagnostics);
        }
        else
        {
            await node.WaitForPublishedAsync(node.AllDevices, "the release completed before the crash");
        }

        // The kubelet calls Unprepare again; it succeeds, and a dirty device is still withdrawn at that moment.
        await node.UnprepareOkAsync(claim);
        Assert.Equal(!dirtyAfterRestart, (await node.PublishedDevicesAsync()).ContainsKey("gpu-0"));
        Assert.Empty(Directory.GetFiles(node.CdiDir));
        AssertNoTempFiles(node);

        node.ClearGpuFaults("gpu-0");
        await node.WaitForPublishedAsync(node.AllDevices, "gpu-0 scrubbed and returned");
        node.AssertCanaryZeroed("gpu-0");

        // A fresh Prepare/Unprepare of the same claim works.
        await node.PrepareOkAsync(claim);
        Assert.True(File.Exists(node.CdiFile(claim.Uid)));
        await node.UnprepareOkAsync(claim);
        Assert.Empty(Directory.GetFiles(node.CdiDir));
        await node.WaitForPublishedAsync(node.AllDevices, "after the fresh release");
    }

    private static void AssertNoTempFiles(E2eNode node)
    {
        var temps = Directory.EnumerateFiles(node.Root, "*.tmp", SearchOption.AllDirectories).ToList();
        Assert.True(temps.Count == 0, $"temp files left behind: {string.Join(", ", temps)}");
    }
}
