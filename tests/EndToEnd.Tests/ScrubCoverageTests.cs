using System.Text;
using System.Text.Json.Nodes;
using SecureDra.EndToEnd.Tests.Fixture;

namespace SecureDra.EndToEnd.Tests;

/// <summary>
/// Issue 10 item 3 through the real plugin process: a release scrub that cannot allocate the last 1 % of a
/// 256 MiB GPU, where the previous tenant's canary sits, is not verified; the GPU is withdrawn and the
/// evidence (log, metric, Node Event) says how many bytes were not covered and why.
/// </summary>
public class ScrubCoverageTests
{
    private const long Size = 256L * 1024 * 1024;
    private static readonly byte[] Canary = Encoding.ASCII.GetBytes("TENANT-A-SECRET-IN-THE-LAST-MIB");

    [Fact]
    public async Task A_scrub_that_misses_the_last_percent_of_a_gpu_withdraws_it_until_a_scrub_covers_it()
    {
        await using var node = await E2eNode.StartAsync(new NodeOptions { Memory = "256Mi" });
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("tenant-a", "gpu-0");
        await node.PrepareOkAsync(claim);
        WriteCanary(node.VramFile("gpu-0"), Size - (1L << 20) + 123);

        node.SetGpuFaults("gpu-0", new JsonObject { ["allocatableFraction"] = 0.99 });
        await node.UnprepareOkAsync(claim);

        var published = await node.PublishedDevicesAsync();
        Assert.False(published.ContainsKey("gpu-0"), $"gpu-0 was republished after a scrub that left 1 % of it\n{node.Diagnostics()}");
        Assert.True(ContainsCanary(node.VramFile("gpu-0")), "the canary is still there: only the withdrawal keeps it from the next tenant");
        Assert.Contains("securedra_scrub_uncovered_bytes_total{backend=\"simulated\",reason=\"not_allocatable\"}", await node.MetricsAsync(), StringComparison.Ordinal);
        Assert.Contains("UnallocatableBytes", node.Plugin.Output, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => (await EventsTextAsync(node)).Contains("not allocatable now", StringComparison.Ordinal),
            "a VramScrubFailed Node Event that says how many bytes were not allocatable", node.Diagnostics, TimeSpan.FromSeconds(10));

        node.ClearGpuFaults("gpu-0");
        await node.WaitForPublishedAsync(node.AllDevices, "the retry loop covered all of gpu-0");
        Assert.False(ContainsCanary(node.VramFile("gpu-0")), $"the canary survived the verified scrub\n{node.Diagnostics()}");
    }

    private static async Task<string> EventsTextAsync(E2eNode node)
    {
        var core = await node.Api.GetStringAsync(new Uri(node.ApiBase, "api/v1/namespaces/default/events"));
        var events = await node.Api.GetStringAsync(new Uri(node.ApiBase, "apis/events.k8s.io/v1/namespaces/default/events"));
        return core + events;
    }

    private static void WriteCanary(string path, long offset) => TenantCanary.Write(path, Canary, offset);

    private static bool ContainsCanary(string path) => TenantCanary.IsPresent(path, Canary);
}
