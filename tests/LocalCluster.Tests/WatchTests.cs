using System.Net;
using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.Tests;

public class WatchTests
{
    private const string Nodes = "/api/v1/nodes";

    [Fact]
    public async Task Watch_streams_added_modified_deleted_one_json_event_per_line()
    {
        await using var t = await TestServer.StartAsync();
        var (_, list) = await t.GetAsync(Nodes);
        var rv = list["metadata"]!["resourceVersion"]!.GetValue<string>();
        using var watch = await WatchReader.OpenAsync(t, $"{Nodes}?watch=true&resourceVersion={rv}");
        Assert.Equal(HttpStatusCode.OK, watch.Status);

        var created = await t.CreateAsync(Nodes, """{"metadata":{"name":"n"}}""");
        var (_, patched) = await t.PatchAsync(Nodes + "/n", JsonNode.Parse("""{"metadata":{"labels":{"a":"b"}}}""")!);
        await t.DeleteAsync(Nodes + "/n");

        var added = await watch.NextAsync();
        Assert.Equal("ADDED", added["type"]!.GetValue<string>());
        Assert.Equal(created["metadata"]!["resourceVersion"]!.GetValue<string>(), added["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.Equal("Node", added["object"]!["kind"]!.GetValue<string>());
        var modified = await watch.NextAsync();
        Assert.Equal("MODIFIED", modified["type"]!.GetValue<string>());
        Assert.Equal(patched["metadata"]!["resourceVersion"]!.GetValue<string>(), modified["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>());
        var deleted = await watch.NextAsync();
        Assert.Equal("DELETED", deleted["type"]!.GetValue<string>());
        Assert.True(long.Parse(deleted["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)
            > long.Parse(patched["metadata"]!["resourceVersion"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Watch_without_resourceVersion_starts_with_the_current_state()
    {
        await using var t = await TestServer.StartAsync();
        await t.CreateAsync(Nodes, """{"metadata":{"name":"a"}}""");
        using var watch = await WatchReader.OpenAsync(t, $"{Nodes}?watch=1");
        var first = await watch.NextAsync();
        Assert.Equal("ADDED", first["type"]!.GetValue<string>());
        Assert.Equal("a", first["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_replays_history_after_the_given_resourceVersion()
    {
        await using var t = await TestServer.StartAsync();
        var a = await t.CreateAsync(Nodes, """{"metadata":{"name":"a"}}""");
        await t.CreateAsync(Nodes, """{"metadata":{"name":"b"}}""");
        using var watch = await WatchReader.OpenAsync(t, $"{Nodes}?watch=true&resourceVersion={a["metadata"]!["resourceVersion"]!.GetValue<string>()}");
        var next = await watch.NextAsync();
        Assert.Equal("b", next["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Selector_transitions_turn_into_added_and_deleted()
    {
        await using var t = await TestServer.StartAsync();
        var path = Objects.ResourcePath("v1", "resourceslices");
        var (_, list) = await t.GetAsync(path);
        using var watch = await WatchReader.OpenAsync(t, $"{path}?watch=true&labelSelector=pick%3Dyes&fieldSelector=spec.nodeName%3Dnode-a&resourceVersion={list["metadata"]!["resourceVersion"]}");
        await t.CreateAsync(path, Objects.Slice("v1", "other", "node-b").ToJsonString());
        var slice = await t.CreateAsync(path, Objects.Slice("v1", "s", "node-a").ToJsonString());
        await t.PatchAsync(path + "/s", JsonNode.Parse("""{"metadata":{"labels":{"pick":"yes"}}}""")!);
        await t.PatchAsync(path + "/s", JsonNode.Parse("""{"metadata":{"labels":{"pick":"no"}}}""")!);
        var entered = await watch.NextAsync();
        Assert.Equal("ADDED", entered["type"]!.GetValue<string>());
        Assert.Equal("s", entered["object"]!["metadata"]!["name"]!.GetValue<string>());
        var left = await watch.NextAsync();
        Assert.Equal("DELETED", left["type"]!.GetValue<string>());
        Assert.NotNull(slice);
    }

    [Fact]
    public async Task Too_old_resourceVersion_gets_an_error_event_with_410_Expired()
    {
        await using var t = await TestServer.StartAsync(configure: o => o.WatchHistoryLimit = 2);
        for (var i = 0; i < 5; i++)
        {
            await t.CreateAsync(Nodes, "{\"metadata\":{\"name\":\"n" + i + "\"}}");
        }

        using var watch = await WatchReader.OpenAsync(t, $"{Nodes}?watch=true&resourceVersion=2");
        var error = await watch.NextAsync();
        Assert.Equal("ERROR", error["type"]!.GetValue<string>());
        Assert.Equal(410, error["object"]!["code"]!.GetValue<int>());
        Assert.Equal("Expired", error["object"]!["reason"]!.GetValue<string>());
        Assert.Equal("Status", error["object"]!["kind"]!.GetValue<string>());
        Assert.Null(await watch.NextLineAsync());
    }

    [Fact]
    public async Task Initial_events_end_with_a_bookmark_and_timeoutSeconds_ends_the_stream()
    {
        await using var t = await TestServer.StartAsync();
        await t.CreateAsync(Nodes, """{"metadata":{"name":"a"}}""");
        using var watch = await WatchReader.OpenAsync(t, $"{Nodes}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1");
        Assert.Equal("ADDED", (await watch.NextAsync())["type"]!.GetValue<string>());
        var bookmark = await watch.NextAsync();
        Assert.Equal("BOOKMARK", bookmark["type"]!.GetValue<string>());
        Assert.Equal("true", bookmark["object"]!["metadata"]!["annotations"]!["k8s.io/initial-events-end"]!.GetValue<string>());
        Assert.Null(await watch.NextLineAsync());
    }

    [Fact]
    public async Task Bookmarks_carry_the_current_resourceVersion_when_asked_for()
    {
        await using var t = await TestServer.StartAsync(configure: o => o.WatchBookmarkInterval = TimeSpan.FromMilliseconds(100));
        var (_, list) = await t.GetAsync(Nodes);
        using var watch = await WatchReader.OpenAsync(t, $"{Nodes}?watch=true&allowWatchBookmarks=true&resourceVersion={list["metadata"]!["resourceVersion"]}");
        var created = await t.CreateAsync(Nodes, """{"metadata":{"name":"a"}}""");
        Assert.Equal("ADDED", (await watch.NextAsync())["type"]!.GetValue<string>());
        var bookmark = await watch.NextAsync();
        Assert.Equal("BOOKMARK", bookmark["type"]!.GetValue<string>());
        Assert.Equal(created["metadata"]!["resourceVersion"]!.GetValue<string>(), bookmark["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.Equal("Node", bookmark["object"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_of_namespaced_resource_is_scoped_to_the_namespace()
    {
        await using var t = await TestServer.StartAsync();
        var (_, list) = await t.GetAsync("/api/v1/serviceaccounts");
        using var watch = await WatchReader.OpenAsync(t, $"/api/v1/namespaces/kube-system/serviceaccounts?watch=true&resourceVersion={list["metadata"]!["resourceVersion"]}");
        await t.CreateAsync("/api/v1/namespaces/default/serviceaccounts", """{"metadata":{"name":"x"}}""");
        await t.CreateAsync("/api/v1/namespaces/kube-system/serviceaccounts", """{"metadata":{"name":"y"}}""");
        var e = await watch.NextAsync();
        Assert.Equal("y", e["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_and_watch_of_a_namespaced_resource_without_a_namespace_span_all_namespaces()
    {
        await using var t = await TestServer.StartAsync();
        await t.CreateAsync("/api/v1/namespaces", """{"metadata":{"name":"tenant-a"}}""");
        await t.CreateAsync("/api/v1/namespaces", """{"metadata":{"name":"tenant-b"}}""");
        await t.CreateAsync("/apis/resource.k8s.io/v1/namespaces/tenant-a/resourceclaims", Objects.Claim("v1", "a").ToJsonString());
        var (_, list) = await t.GetAsync("/apis/resource.k8s.io/v1/resourceclaims");
        Assert.Equal(["tenant-a"], list["items"]!.AsArray().Select(i => i!["metadata"]!["namespace"]!.GetValue<string>()));

        using var watch = await WatchReader.OpenAsync(t, $"/apis/resource.k8s.io/v1/resourceclaims?watch=true&resourceVersion={list["metadata"]!["resourceVersion"]}");
        await t.CreateAsync("/apis/resource.k8s.io/v1/namespaces/tenant-b/resourceclaims", Objects.Claim("v1", "b").ToJsonString());
        await t.CreateAsync("/apis/resource.k8s.io/v1/namespaces/tenant-a/resourceclaims", Objects.Claim("v1", "c").ToJsonString());

        var first = await watch.NextAsync();
        var second = await watch.NextAsync();
        Assert.Equal(("tenant-b", "b"), (first["object"]!["metadata"]!["namespace"]!.GetValue<string>(), first["object"]!["metadata"]!["name"]!.GetValue<string>()));
        Assert.Equal(("tenant-a", "c"), (second["object"]!["metadata"]!["namespace"]!.GetValue<string>(), second["object"]!["metadata"]!["name"]!.GetValue<string>()));
    }
}
