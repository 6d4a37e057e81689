using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.LocalCluster.ApiServer;

namespace SecureDra.KubeletPlugin.Tests.Health;

/// <summary>The plugin's recorder settings against the local API server, on a controlled clock: burst 5 per Node+reason, then 1 per 30 s carrying the suppressed count.</summary>
public sealed class ScrubEventRateLimitTests
{
    [Fact]
    public async Task Burst_of_five_then_one_per_30_s_with_the_suppressed_count()
    {
        await using var server = await LocalApiServer.StartAsync(new LocalApiServerOptions { Listen = "127.0.0.1:0" }, CancellationToken.None);
        using var kube = KubeApiClientFactory.Create(server.BaseAddress.ToString().TrimEnd('/'));
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-23T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var recorder = new KubeEventRecorder(kube, new EventRecorderOptions { Component = "securedra-kubelet-plugin", Host = "node-1" }, clock);
        var node = new EventTarget("v1", "Node", "node-1", null, "uid-1");

        for (var i = 0; i < 12; i++)
        {
            await recorder.RecordAsync(node, EventSeverity.Warning, "VramScrubFailed", $"device gpu-0 scrub {i}", CancellationToken.None);
        }

        // Another reason on the same Node has its own bucket: a flapping failure never hides successful scrubs.
        await recorder.RecordAsync(node, EventSeverity.Normal, "VramScrubbed", "device gpu-1 ok", CancellationToken.None);
        Assert.Equal(5, (await EventsAsync(kube, "VramScrubFailed")).Count);
        Assert.Single(await EventsAsync(kube, "VramScrubbed"));

        clock.Advance(TimeSpan.FromSeconds(29));
        await recorder.RecordAsync(node, EventSeverity.Warning, "VramScrubFailed", "device gpu-0 scrub 12", CancellationToken.None);
        Assert.Equal(5, (await EventsAsync(kube, "VramScrubFailed")).Count);

        clock.Advance(TimeSpan.FromSeconds(1));
        await recorder.RecordAsync(node, EventSeverity.Warning, "VramScrubFailed", "device gpu-0 scrub 13", CancellationToken.None);
        var events = await EventsAsync(kube, "VramScrubFailed");
        Assert.Equal(6, events.Count);
        var folded = Assert.Single(events, e => e["message"]!.GetValue<string>().Contains("scrub 13", StringComparison.Ordinal));
        Assert.Equal("device gpu-0 scrub 13 (8 similar events suppressed)", folded["message"]!.GetValue<string>());
        Assert.Equal(9, folded["count"]!.GetValue<int>());
        Assert.Equal("uid-1", folded["involvedObject"]!["uid"]!.GetValue<string>());
        Assert.Equal("node-1", folded["source"]!["host"]!.GetValue<string>());
    }

    private static async Task<List<JsonObject>> EventsAsync(IKubeApiClient kube, string reason)
    {
        var list = await kube.ListAsync(KubeResource.Events, "default", null, CancellationToken.None);
        return [.. list["items"]!.AsArray().Select(e => e!.AsObject()).Where(e => e["reason"]!.GetValue<string>() == reason)];
    }
}
