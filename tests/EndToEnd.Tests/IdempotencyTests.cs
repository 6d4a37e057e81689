using SecureDra.EndToEnd.Tests.Fixture;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.EndToEnd.Tests;

/// <summary>The kubelet retries both calls freely: a repeat must answer the same and redo nothing.</summary>
public class IdempotencyTests
{
    [Fact]
    public async Task Prepare_twice_gives_the_same_answer_without_a_second_cdi_write()
    {
        await using var node = await E2eNode.StartAsync();
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("twice", "gpu-1");

        var first = await node.PrepareOkAsync(claim);
        var cdiPath = node.CdiFile(claim.Uid);
        var writtenAt = File.GetLastWriteTimeUtc(cdiPath);
        var content = await File.ReadAllBytesAsync(cdiPath);

        var second = await node.PrepareOkAsync(claim);
        Assert.Equal(Describe(first), Describe(second));
        Assert.Equal(writtenAt, File.GetLastWriteTimeUtc(cdiPath));
        Assert.Equal(content, await File.ReadAllBytesAsync(cdiPath));
        Assert.Contains("securedra_prepare_total{outcome=\"idempotent\"} 1", await node.MetricsAsync(), StringComparison.Ordinal);

        // The same claim twice in one request is answered exactly once.
        var both = await node.Kubelet.PrepareAsync([claim, claim]);
        Assert.Equal(claim.Uid, Assert.Single(both).Key);

        await node.UnprepareOkAsync(claim);
        await node.UnprepareOkAsync(claim);
        Assert.False(File.Exists(cdiPath));
        // The verified scrub is durable before Unprepare answers; the slice is republished after it, not within the call.
        await node.WaitForPublishedAsync(node.AllDevices, "gpu-1 back after its verified release scrub");
    }

    [Fact]
    public async Task Unprepare_of_an_unknown_claim_succeeds_and_touches_nothing()
    {
        await using var node = await E2eNode.StartAsync();
        await node.WaitForPublishedAsync(node.AllDevices, "after start");
        var stranger = new KubeletClaim(E2eNode.Namespace, "never-prepared", Guid.NewGuid().ToString());
        await node.UnprepareOkAsync(stranger);
        await node.UnprepareOkAsync(stranger);
        Assert.True(!Directory.Exists(node.CdiDir) || Directory.GetFiles(node.CdiDir).Length == 0, "a CDI file appeared");
        Assert.Contains("securedra_unprepare_total{outcome=\"unknown\"} 2", await node.MetricsAsync(), StringComparison.Ordinal);
        await node.WaitForPublishedAsync(node.AllDevices, "nothing withdrawn");
    }

    private static string Describe(KubeletPrepareResult result) =>
        result.Error + "|" + string.Join(";", result.Devices.Select(d => $"{string.Join(",", d.RequestNames)}/{d.PoolName}/{d.DeviceName}/{string.Join(",", d.CdiDeviceIds)}/{d.ShareId}"));
}
