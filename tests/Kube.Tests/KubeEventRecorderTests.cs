using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;

namespace SecureDra.Kube.Tests;

public sealed class KubeEventRecorderTests : IAsyncLifetime
{
    private static readonly EventTarget Claim = new("resource.k8s.io/v1", "ResourceClaim", "tenant-gpu", "team-a", "uid-1");
    private static readonly EventTarget Node = new("v1", "Node", "node-a", null, "uid-node");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private TestApiServer _server = null!;
    private KubeApiClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await TestApiServer.StartAsync(ctx => TestApiServer.WriteJsonAsync(ctx, 201, (string)ctx.Items["body"]!));
        _client = new KubeApiClient(new HttpClient(), _server.Url, ownsHttpClient: true);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private JsonObject[] Posted() => [.. _server.Requests.Where(r => r.Method == "POST").Select(r => JsonNode.Parse(r.Body)!.AsObject())];

    [Fact]
    public async Task Writes_a_core_v1_event_with_all_fields()
    {
        var recorder = new KubeEventRecorder(_client, new EventRecorderOptions { Host = "node-a" }, _time);

        await recorder.RecordAsync(Claim, EventSeverity.Warning, "ScrubFailed", "gpu-0: verification found 12 non-zero bytes", CancellationToken.None);

        var request = Assert.Single(_server.Requests);
        Assert.Equal("/api/v1/namespaces/team-a/events", request.Path);
        var evt = JsonNode.Parse(request.Body)!;
        Assert.Equal("Event", (string?)evt["kind"]);
        Assert.StartsWith("tenant-gpu.", (string?)evt["metadata"]!["name"], StringComparison.Ordinal);
        Assert.Equal("team-a", (string?)evt["metadata"]!["namespace"]);
        Assert.Equal("ResourceClaim", (string?)evt["involvedObject"]!["kind"]);
        Assert.Equal("uid-1", (string?)evt["involvedObject"]!["uid"]);
        Assert.Equal("ScrubFailed", (string?)evt["reason"]);
        Assert.Equal("Warning", (string?)evt["type"]);
        Assert.Equal("securedra", (string?)evt["source"]!["component"]);
        Assert.Equal("node-a", (string?)evt["source"]!["host"]);
        Assert.Equal("2026-11-23T12:00:00Z", (string?)evt["firstTimestamp"]);
        Assert.Equal("2026-11-23T12:00:00Z", (string?)evt["lastTimestamp"]);
        Assert.Equal("2026-11-23T12:00:00.000000Z", (string?)evt["eventTime"]);
        Assert.Equal(1, (int?)evt["count"]);
        Assert.Equal("securedra", (string?)evt["reportingComponent"]);
        Assert.Equal("node-a", (string?)evt["reportingInstance"]);
    }

    [Fact]
    public async Task Multibyte_messages_are_cut_by_utf8_bytes_as_the_api_server_counts()
    {
        var recorder = new KubeEventRecorder(_client, timeProvider: _time);

        await recorder.RecordAsync(Claim, EventSeverity.Normal, "R", string.Concat(Enumerable.Repeat("é😀", 600)), CancellationToken.None);

        var message = (string)Posted()[0]["message"]!;
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(message), 1000, 1024);
        Assert.False(char.IsHighSurrogate(message[^4]));
    }

    [Fact]
    public async Task Cluster_scoped_objects_get_their_events_in_default()
    {
        var recorder = new KubeEventRecorder(_client, timeProvider: _time);

        await recorder.RecordAsync(Node, EventSeverity.Normal, "DevicesPublished", "8 GPUs", CancellationToken.None);

        Assert.Equal("/api/v1/namespaces/default/events", Assert.Single(_server.Requests).Path);
        Assert.Equal("Normal", (string?)Posted()[0]["type"]);
    }

    [Fact]
    public async Task Long_messages_are_cut_to_1024_characters()
    {
        var recorder = new KubeEventRecorder(_client, timeProvider: _time);

        await recorder.RecordAsync(Claim, EventSeverity.Normal, "R", new string('x', 5000), CancellationToken.None);

        var message = (string)Posted()[0]["message"]!;
        Assert.Equal(1024, message.Length);
        Assert.EndsWith("...", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rate_limit_per_object_and_reason_then_folds_the_suppressed_count_into_the_next_event()
    {
        var recorder = new KubeEventRecorder(_client, new EventRecorderOptions { Burst = 5, RefillInterval = TimeSpan.FromSeconds(30) }, _time);

        for (var i = 0; i < 8; i++)
        {
            await recorder.RecordAsync(Claim, EventSeverity.Warning, "ScrubFailed", $"attempt {i}", CancellationToken.None);
        }

        await recorder.RecordAsync(Claim, EventSeverity.Warning, "OtherReason", "independent", CancellationToken.None);
        await recorder.RecordAsync(Node, EventSeverity.Warning, "ScrubFailed", "independent object", CancellationToken.None);
        Assert.Equal(7, Posted().Length);

        _time.Advance(TimeSpan.FromSeconds(29));
        await recorder.RecordAsync(Claim, EventSeverity.Warning, "ScrubFailed", "still limited", CancellationToken.None);
        Assert.Equal(7, Posted().Length);

        _time.Advance(TimeSpan.FromSeconds(1));
        await recorder.RecordAsync(Claim, EventSeverity.Warning, "ScrubFailed", "attempt 9", CancellationToken.None);

        var last = Posted()[^1];
        Assert.Equal(8, Posted().Length);
        Assert.Equal(5, (int?)last["count"]);
        Assert.Equal("attempt 9 (4 similar events suppressed)", (string?)last["message"]);
    }

    [Fact]
    public async Task Api_failures_are_swallowed()
    {
        _server.Handler = ctx => TestApiServer.WriteJsonAsync(ctx, 403, """{"kind":"Status","reason":"Forbidden","message":"no"}""");
        var recorder = new KubeEventRecorder(_client, timeProvider: _time);

        await recorder.RecordAsync(Claim, EventSeverity.Warning, "R", "m", CancellationToken.None);

        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task Tracked_keys_are_bounded()
    {
        var recorder = new KubeEventRecorder(_client, new EventRecorderOptions { MaxTrackedKeys = 4 }, _time);

        for (var i = 0; i < 20; i++)
        {
            await recorder.RecordAsync(Claim with { Name = $"c{i}" }, EventSeverity.Normal, "R", "m", CancellationToken.None);
        }

        Assert.Equal(20, Posted().Length);
    }
}
