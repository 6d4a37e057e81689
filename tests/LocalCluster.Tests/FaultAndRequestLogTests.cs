using System.Net;
using System.Text.Json.Nodes;
using SecureDra.LocalCluster.ApiServer;

namespace SecureDra.LocalCluster.Tests;

public class FaultAndRequestLogTests
{
    [Fact]
    public async Task Next_N_matching_requests_fail_with_500_then_succeed()
    {
        await using var t = await TestServer.StartAsync();
        t.Server.Faults.Add(new FaultRule { Count = 2, Status = 500, PathPrefix = "/apis/resource.k8s.io" });
        Assert.Equal(HttpStatusCode.OK, (await t.GetAsync("/api/v1/nodes")).Status);
        var (first, body) = await t.GetAsync("/apis/resource.k8s.io/v1/resourceslices");
        Assert.Equal(HttpStatusCode.InternalServerError, first);
        Assert.Equal("InternalError", body["reason"]!.GetValue<string>());
        Assert.Equal("Status", body["kind"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.InternalServerError, (await t.GetAsync("/apis/resource.k8s.io/v1/resourceslices")).Status);
        Assert.Equal(HttpStatusCode.OK, (await t.GetAsync("/apis/resource.k8s.io/v1/resourceslices")).Status);
        Assert.Empty(t.Server.Faults.Pending);
        var faulted = t.Server.RequestLog.Entries.Where(e => e.Fault is not null).ToList();
        Assert.Equal(2, faulted.Count);
        Assert.All(faulted, e => Assert.Equal(500, e.StatusCode));
    }

    [Fact]
    public async Task Http_fault_api_is_off_unless_configured_and_queues_nothing()
    {
        await using var t = await TestServer.StartAsync();
        var (armed, _) = await t.PostAsync("/_securedra/faults", JsonNode.Parse("""{"count":1,"status":500}""")!);
        Assert.Equal(HttpStatusCode.NotFound, armed);
        Assert.Equal(HttpStatusCode.NotFound, (await t.GetAsync("/_securedra/faults")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await t.DeleteAsync("/_securedra/faults")).Status);
        Assert.Empty(t.Server.Faults.Pending);
        Assert.Equal(HttpStatusCode.OK, (await t.GetAsync("/apis/resource.k8s.io/v1/resourceslices")).Status);
    }

    [Fact]
    public async Task Http_fault_api_arms_429_with_Retry_After_for_one_method()
    {
        await using var t = await TestServer.StartAsync(configure: o => o.FaultEndpoint = true);
        var (armed, state) = await t.PostAsync("/_securedra/faults", JsonNode.Parse("""{"count":1,"status":429,"retryAfterSeconds":3,"method":"POST","pathPrefix":"/api/v1/nodes"}""")!);
        Assert.Equal(HttpStatusCode.Created, armed);
        Assert.Single(state["items"]!.AsArray());
        Assert.Equal(HttpStatusCode.OK, (await t.GetAsync("/api/v1/nodes")).Status);

        using var content = new StringContent("""{"metadata":{"name":"n"}}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await t.Http.PostAsync("/api/v1/nodes", content);
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter!.Delta);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("TooManyRequests", status["reason"]!.GetValue<string>());
        Assert.Equal(3, status["details"]!["retryAfterSeconds"]!.GetValue<int>());
        await t.CreateAsync("/api/v1/nodes", """{"metadata":{"name":"n"}}""");

        Assert.Equal(HttpStatusCode.BadRequest, (await t.PostAsync("/_securedra/faults", JsonNode.Parse("""{"count":1,"stauts":500}""")!)).Status);
        await t.PostAsync("/_securedra/faults", JsonNode.Parse("""{"count":5,"status":503}""")!);
        var (cleared, after) = await t.DeleteAsync("/_securedra/faults");
        Assert.Equal(HttpStatusCode.OK, cleared);
        Assert.Empty(after["items"]!.AsArray());
    }

    [Fact]
    public async Task Hang_holds_the_request_until_the_client_gives_up()
    {
        await using var t = await TestServer.StartAsync();
        t.Server.Faults.Add(new FaultRule { Count = 1, Hang = true, PathPrefix = "/api/v1/nodes" });
        using var cts = new CancellationTokenSource();
        var held = t.Http.GetAsync("/api/v1/nodes", cts.Token);
        // The client gives up only once the server holds the request: a timer could fire before the request arrived,
        // leaving the one-shot fault for the next request, which would then hang instead.
        await Poll.UntilAsync(() => t.Server.RequestLog.Entries.Any(e => e.Fault == "hang"), "the request is held by the hang fault");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);
        Assert.Equal(HttpStatusCode.OK, (await t.GetAsync("/api/v1/nodes")).Status);
        Assert.Contains(t.Server.RequestLog.Entries, e => e.Fault == "hang");
    }

    [Fact]
    public async Task Hung_request_ends_when_the_server_stops()
    {
        var t = await TestServer.StartAsync();
        t.Server.Faults.Add(new FaultRule { Hang = true });
        var pending = t.Http.GetAsync("/api/v1/nodes");
        await Poll.UntilAsync(() => t.Server.RequestLog.Entries.Any(e => e.Fault == "hang"), "the request is held by the hang fault");

        await t.DisposeAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => pending);
    }

    [Fact]
    public async Task Request_log_shows_a_1_32_server_never_saw_a_v1_request()
    {
        await using var t = await TestServer.StartAsync("1.32");
        await t.CreateAsync(Objects.ResourcePath("v1beta1", "resourceslices"), Objects.Slice("v1beta1", "s").ToJsonString());
        await t.GetAsync("/apis/resource.k8s.io");
        Assert.False(t.Server.RequestLog.Any("/apis/resource.k8s.io/v1/"));
        var entry = t.Server.RequestLog.Entries.Single(e => e.Verb == "create");
        Assert.Equal(("POST", "resource.k8s.io", "v1beta1", "resourceslices", 201), (entry.Method, entry.Group, entry.Version, entry.Resource, entry.StatusCode));

        await t.GetAsync(Objects.ResourcePath("v1", "resourceslices"));
        Assert.True(t.Server.RequestLog.Any("/apis/resource.k8s.io/v1/"));

        var (_, overHttp) = await t.GetAsync("/_securedra/requests?pathPrefix=/apis/resource.k8s.io/v1/");
        var item = overHttp["items"]!.AsArray().Single()!;
        Assert.Equal("v1", item["version"]!.GetValue<string>());
        Assert.Equal("resource.k8s.io", item["group"]!.GetValue<string>());
        Assert.Equal("list", item["verb"]!.GetValue<string>());
        Assert.Equal(404, item["statusCode"]!.GetValue<int>());
        Assert.True(DateTimeOffset.TryParse(item["timestamp"]!.GetValue<string>(), out _));

        await t.DeleteAsync("/_securedra/requests");
        Assert.Empty(t.Server.RequestLog.Entries);
    }

    [Fact]
    public async Task Request_log_records_watch_and_namespaced_paths()
    {
        await using var t = await TestServer.StartAsync();
        using (var watch = await WatchReader.OpenAsync(t, "/api/v1/namespaces/default/serviceaccounts?watch=true&resourceVersion=1"))
        {
            Assert.Equal(HttpStatusCode.OK, watch.Status);
        }

        await t.GetAsync("/api/v1/namespaces/default/serviceaccounts/x");
        var entries = t.Server.RequestLog.Entries;
        Assert.Contains(entries, e => e.Verb == "watch" && e.Namespace == "default" && e.Resource == "serviceaccounts");
        Assert.Contains(entries, e => e.Verb == "get" && e.Name == "x" && e.StatusCode == 404);
    }
}
