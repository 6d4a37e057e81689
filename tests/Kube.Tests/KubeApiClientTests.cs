using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SecureDra.Kube.Client;

namespace SecureDra.Kube.Tests;

public sealed class KubeApiClientTests : IAsyncLifetime
{
    private TestApiServer _server = null!;

    public async Task InitializeAsync() => _server = await TestApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private KubeApiClient Client(KubeApiClientOptions? options = null, IKubeTokenSource? tokens = null) =>
        new(new HttpClient(), _server.Url, options, tokens, ownsHttpClient: true);

    [Fact]
    public async Task Get_builds_paths_sends_user_agent_and_token_and_returns_the_object()
    {
        _server.Handler = ctx => TestApiServer.WriteJsonAsync(ctx, 200, """{"kind":"ResourceClaim","metadata":{"name":"c1"}}""");
        using var client = Client(tokens: new StaticTokenSource("tok-1"));

        var claim = await client.GetAsync(KubeResource.ResourceClaims("v1"), "team a", "c1", CancellationToken.None);
        var node = await client.GetAsync(KubeResource.Nodes, null, "node-1", CancellationToken.None);

        Assert.Equal("c1", (string?)claim!["metadata"]!["name"]);
        Assert.NotNull(node);
        var requests = _server.Requests.ToArray();
        Assert.Equal("/apis/resource.k8s.io/v1/namespaces/team a/resourceclaims/c1", requests[0].Path);
        Assert.Equal("/api/v1/nodes/node-1", requests[1].Path);
        Assert.StartsWith("securedra/", requests[0].UserAgent, StringComparison.Ordinal);
        Assert.Equal("Bearer tok-1", requests[0].Authorization);
    }

    [Fact]
    public async Task Get_of_a_missing_object_is_null()
    {
        _server.Handler = ctx => TestApiServer.WriteJsonAsync(ctx, 404, """{"kind":"Status","status":"Failure","reason":"NotFound","message":"not found","code":404}""");
        using var client = Client();

        Assert.Null(await client.GetAsync(KubeResource.ResourceSlices("v1"), null, "x", CancellationToken.None));
        await client.DeleteAsync(KubeResource.ResourceSlices("v1"), null, "x", CancellationToken.None);
        Assert.Null(await client.GetPathAsync("/apis/resource.k8s.io", CancellationToken.None));
    }

    [Fact]
    public async Task Conflict_status_becomes_an_exception_with_reason_and_message()
    {
        _server.Handler = ctx => TestApiServer.WriteJsonAsync(ctx, 409,
            """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Operation cannot be fulfilled on resourceslices.resource.k8s.io \"s\": the object has been modified","reason":"Conflict","code":409}""");
        using var client = Client();

        var ex = await Assert.ThrowsAsync<KubeApiException>(() =>
            client.UpdateAsync(KubeResource.ResourceSlices("v1"), null, "s", new JsonObject { ["metadata"] = new JsonObject { ["resourceVersion"] = "1" } }, CancellationToken.None));

        Assert.True(ex.IsConflict);
        Assert.False(ex.IsTransient);
        Assert.Equal("Conflict", ex.Reason);
        Assert.Contains("the object has been modified", ex.Message, StringComparison.Ordinal);
        var request = Assert.Single(_server.Requests);
        Assert.Equal("PUT", request.Method);
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
        Assert.Equal("1", (string?)JsonNode.Parse(request.Body)!["metadata"]!["resourceVersion"]);
    }

    [Fact]
    public async Task Non_status_error_body_is_tolerated()
    {
        _server.Handler = async ctx =>
        {
            ctx.Response.StatusCode = 500;
            await ctx.Response.WriteAsync("<html>upstream exploded</html>");
        };
        using var client = Client();

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => client.ListAsync(KubeResource.Nodes, null, null, CancellationToken.None));

        Assert.Equal(HttpStatusCode.InternalServerError, ex.StatusCode);
        Assert.Equal("InternalError", ex.Reason);
        Assert.Contains("upstream exploded", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task Too_many_requests_is_transient()
    {
        _server.Handler = ctx => TestApiServer.WriteJsonAsync(ctx, 429, """{"kind":"Status","reason":"TooManyRequests","message":"slow down"}""");
        using var client = Client();

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => client.CreateAsync(KubeResource.ResourceSlices("v1"), null, [], CancellationToken.None));

        Assert.Equal(HttpStatusCode.TooManyRequests, ex.StatusCode);
        Assert.Equal("TooManyRequests", ex.Reason);
        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task A_hanging_server_times_out_as_a_transient_error()
    {
        _server.Handler = async ctx => await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
        using var client = Client(new KubeApiClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(200) });

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => client.GetAsync(KubeResource.Nodes, null, "n", CancellationToken.None));

        Assert.Equal((HttpStatusCode)0, ex.StatusCode);
        Assert.Equal("Timeout", ex.Reason);
        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_turned_into_an_api_error()
    {
        _server.Handler = async ctx => await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
        using var client = Client();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync(KubeResource.Nodes, null, "n", cts.Token));
    }

    [Fact]
    public async Task A_closed_port_is_a_transport_error_with_status_zero()
    {
        var port = _server.Url.Port;
        await _server.DisposeAsync();
        _server = await TestApiServer.StartAsync();
        using var client = new KubeApiClient(new HttpClient(), new Uri($"http://127.0.0.1:{port}"), ownsHttpClient: true);

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => client.GetAsync(KubeResource.Nodes, null, "n", CancellationToken.None));

        Assert.Equal((HttpStatusCode)0, ex.StatusCode);
        Assert.Equal("TransportError", ex.Reason);
        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task Oversized_response_is_rejected_not_truncated()
    {
        _server.Handler = async ctx =>
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("{\"x\":\"" + new string('a', 8192) + "\"}");
        };
        using var client = Client(new KubeApiClientOptions { MaxResponseBytes = 1024 });

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => client.ListAsync(KubeResource.Nodes, null, null, CancellationToken.None));

        Assert.Equal("ResponseTooLarge", ex.Reason);
        Assert.Contains("1024", ex.Message, StringComparison.Ordinal);
        Assert.False(ex.IsTransient);
    }

    /// <summary>An object whose JSON text is exactly <paramref name="bytes"/> long (ASCII, so characters are bytes).</summary>
    private static string JsonOfLength(int bytes) => "{\"x\":\"" + new string('a', bytes - 8) + "\"}";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_of_exactly_the_limit_is_read_and_one_byte_more_is_refused_with_or_without_a_length(bool declareLength)
    {
        const int Limit = 100_000; // past the first buffer either way, so the growing read is what is bounded
        var body = JsonOfLength(Limit);
        _server.Handler = async ctx =>
        {
            var text = ctx.Request.Path.Value!.EndsWith("/over", StringComparison.Ordinal) ? body + " " : body;
            ctx.Response.ContentType = "application/json";
            if (declareLength)
            {
                ctx.Response.ContentLength = text.Length;
            }

            // Small writes: the client sees many reads, not one.
            for (var i = 0; i < text.Length; i += 7_000)
            {
                await ctx.Response.WriteAsync(text.Substring(i, Math.Min(7_000, text.Length - i)));
                await ctx.Response.Body.FlushAsync();
            }
        };
        using var client = Client(new KubeApiClientOptions { MaxResponseBytes = Limit });

        var node = await client.GetAsync(KubeResource.Nodes, null, "exact", CancellationToken.None);
        Assert.Equal(Limit - 8, ((string?)node!["x"])!.Length);

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => client.GetAsync(KubeResource.Nodes, null, "over", CancellationToken.None));
        Assert.Equal("ResponseTooLarge", ex.Reason);
        Assert.EndsWith("GET /api/v1/nodes/over: response body exceeds the limit of 100000 bytes", ex.Message, StringComparison.Ordinal);
        Assert.False(ex.IsTransient);
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_is_refused_before_the_body_is_read()
    {
        _server.Handler = async ctx =>
        {
            ctx.Response.ContentType = "application/json";
            ctx.Response.ContentLength = 2048;
            await ctx.Response.WriteAsync(JsonOfLength(2048));
        };
        using var client = Client(new KubeApiClientOptions { MaxResponseBytes = 1024 });

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => client.ListAsync(KubeResource.Nodes, null, null, CancellationToken.None));

        Assert.Equal("ResponseTooLarge", ex.Reason);
        Assert.EndsWith(": response body exceeds the limit of 1024 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Successive_answers_of_different_sizes_parse_only_their_own_bytes()
    {
        // The read buffer is pooled: a short answer after a long one must not see the long one's tail.
        var sizes = new[] { 70_000, 20, 40_000, 9 };
        var next = 0;
        _server.Handler = ctx =>
        {
            var size = sizes[next++];
            return TestApiServer.WriteJsonAsync(ctx, 200, size == 9 ? "{\"y\":12}" : JsonOfLength(size));
        };
        using var client = Client();

        foreach (var size in sizes)
        {
            var node = await client.GetAsync(KubeResource.Nodes, null, "n", CancellationToken.None);
            if (size == 9)
            {
                Assert.Equal(12, (int)node!["y"]!);
                Assert.Single(node.AsObject());
            }
            else
            {
                Assert.Equal(size - 8, ((string?)node!["x"])!.Length);
            }
        }
    }

    [Fact]
    public async Task List_options_are_url_encoded()
    {
        _server.Handler = ctx => TestApiServer.WriteJsonAsync(ctx, 200, """{"kind":"ResourceSliceList","items":[],"metadata":{"resourceVersion":"7"}}""");
        using var client = Client();

        var list = await client.ListAsync(
            KubeResource.ResourceSlices("v1beta1"),
            null,
            new KubeListOptions("app in (a,b),tier!=x", "spec.nodeName=node-1,spec.driver=gpu.nvidia.com", "7", 30),
            CancellationToken.None);

        Assert.Equal("7", (string?)list["metadata"]!["resourceVersion"]);
        var request = Assert.Single(_server.Requests);
        Assert.Equal("/apis/resource.k8s.io/v1beta1/resourceslices", request.Path);
        Assert.Equal(
            "?labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Dx&fieldSelector=spec.nodeName%3Dnode-1%2Cspec.driver%3Dgpu.nvidia.com&resourceVersion=7&timeoutSeconds=30",
            request.Query);
    }

    [Fact]
    public async Task Update_of_a_subresource_puts_to_its_path()
    {
        _server.Handler = ctx => TestApiServer.WriteJsonAsync(ctx, 200, (string)ctx.Items["body"]!);
        using var client = Client();

        var result = await client.UpdateAsync(KubeResource.ResourceClaims("v1"), "ns", "c", new JsonObject { ["status"] = new JsonObject() }, CancellationToken.None, "status");

        Assert.NotNull(result["status"]);
        Assert.Equal("/apis/resource.k8s.io/v1/namespaces/ns/resourceclaims/c/status", Assert.Single(_server.Requests).Path);
    }

    [Fact]
    public async Task Watch_streams_events_as_they_arrive_and_cancellation_closes_the_stream()
    {
        var second = new TaskCompletionSource();
        var aborted = new TaskCompletionSource();
        _server.Handler = async ctx =>
        {
            ctx.RequestAborted.Register(() => aborted.TrySetResult());
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("""{"type":"ADDED","object":{"kind":"ResourceSlice","metadata":{"name":"a","resourceVersion":"11"}}}""" + "\n");
            await ctx.Response.Body.FlushAsync();
            await second.Task.WaitAsync(ctx.RequestAborted);
            await ctx.Response.WriteAsync("""{"type":"BOOKMARK","object":{"kind":"ResourceSlice","metadata":{"resourceVersion":"12"}}}""" + "\r\n");
            await ctx.Response.Body.FlushAsync();
            await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
        };
        using var client = Client(new KubeApiClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(100) });
        using var cts = new CancellationTokenSource();

        var events = new List<KubeWatchEvent>();
        var ex = await Record.ExceptionAsync(async () =>
        {
            await foreach (var evt in client.WatchAsync(KubeResource.ResourceSlices("v1"), null, new KubeListOptions(ResourceVersion: "10", FieldSelector: "spec.nodeName=n"), cts.Token))
            {
                events.Add(evt);
                if (events.Count == 1)
                {
                    // Only now may the server send the second event: the first arrived on its own.
                    second.SetResult();
                }
                else
                {
                    await cts.CancelAsync();
                }
            }
        });

        Assert.IsAssignableFrom<OperationCanceledException>(ex);
        Assert.Equal(["ADDED", "BOOKMARK"], events.Select(e => e.Type));
        Assert.Equal("a", (string?)events[0].Object["metadata"]!["name"]);
        Assert.Equal("12", (string?)events[1].Object["metadata"]!["resourceVersion"]);
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(5));
        var request = Assert.Single(_server.Requests);
        Assert.Equal("?watch=true&allowWatchBookmarks=true&fieldSelector=spec.nodeName%3Dn&resourceVersion=10", request.Query);
    }

    [Fact]
    public async Task Watch_ends_when_the_server_closes_and_reports_error_events()
    {
        _server.Handler = async ctx =>
        {
            await ctx.Response.WriteAsync("""{"type":"MODIFIED","object":{"metadata":{"name":"a"}}}""" + "\n\n");
            await ctx.Response.WriteAsync("""{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}}""");
        };
        using var client = Client();

        var events = new List<KubeWatchEvent>();
        await foreach (var evt in client.WatchAsync(KubeResource.ResourceSlices("v1"), null, null, CancellationToken.None))
        {
            events.Add(evt);
        }

        Assert.Equal(["MODIFIED", "ERROR"], events.Select(e => e.Type));
        Assert.Equal(410, (int?)events[1].Object["code"]);
    }

    [Fact]
    public async Task Watch_line_over_the_limit_is_an_error()
    {
        _server.Handler = async ctx => await ctx.Response.WriteAsync("{\"type\":\"ADDED\",\"object\":{\"x\":\"" + new string('a', 4096) + "\"}}\n");
        using var client = Client(new KubeApiClientOptions { MaxWatchLineBytes = 1000 });

        var ex = await Assert.ThrowsAsync<KubeApiException>(async () =>
        {
            await foreach (var _ in client.WatchAsync(KubeResource.ResourceSlices("v1"), null, null, CancellationToken.None))
            {
            }
        });

        Assert.Equal("WatchEventTooLarge", ex.Reason);
    }

    [Fact]
    public async Task Watch_error_status_before_streaming_is_an_exception()
    {
        _server.Handler = ctx => TestApiServer.WriteJsonAsync(ctx, 403, """{"kind":"Status","reason":"Forbidden","message":"cannot watch"}""");
        using var client = Client();

        var ex = await Assert.ThrowsAsync<KubeApiException>(async () =>
        {
            await foreach (var _ in client.WatchAsync(KubeResource.ResourceSlices("v1"), null, null, CancellationToken.None))
            {
            }
        });

        Assert.Equal("Forbidden", ex.Reason);
        Assert.Equal(HttpStatusCode.Forbidden, ex.StatusCode);
    }

    [Fact]
    public async Task Namespaced_resource_without_namespace_is_refused_before_sending()
    {
        using var client = Client();

        await Assert.ThrowsAsync<ArgumentException>(() => client.GetAsync(KubeResource.ResourceClaims("v1"), null, "c", CancellationToken.None));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task List_and_watch_of_a_namespaced_resource_without_namespace_read_all_namespaces()
    {
        _server.Handler = ctx => ctx.Request.Query.ContainsKey("watch")
            ? ctx.Response.WriteAsync("""{"type":"ADDED","object":{"metadata":{"name":"c","namespace":"tenant-b"}}}""" + "\n")
            : TestApiServer.WriteJsonAsync(ctx, 200, """{"kind":"ResourceClaimList","items":[]}""");
        using var client = Client();

        await client.ListAsync(KubeResource.ResourceClaims("v1"), null, null, CancellationToken.None);
        var events = new List<KubeWatchEvent>();
        await foreach (var evt in client.WatchAsync(KubeResource.ResourceClaims("v1"), null, null, CancellationToken.None))
        {
            events.Add(evt);
        }

        Assert.Equal(["/apis/resource.k8s.io/v1/resourceclaims", "/apis/resource.k8s.io/v1/resourceclaims"], _server.Requests.Select(r => r.Path));
        Assert.Equal("tenant-b", (string?)Assert.Single(events).Object["metadata"]!["namespace"]);
    }

    [Fact]
    public async Task Create_of_a_namespaced_resource_without_namespace_is_still_refused_before_sending()
    {
        using var client = Client();

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.CreateAsync(KubeResource.ResourceClaims("v1"), null, new JsonObject(), CancellationToken.None));
        Assert.Contains("a namespace is required", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_server.Requests);
    }

    public static TheoryData<string, byte[]> BadWatchLines => new()
    {
        { "invalid UTF-8 in a value", [.. "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\""u8, 0xff, 0xfe, .. "\"}}}"u8] },
        { "invalid UTF-8 in a key", [.. "{\"type\":\"ADDED\",\"object\":{\""u8, 0xc3, 0x28, .. "\":1}}"u8] },
        { "lone surrogate in a value", "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"\\uDC00\"}}}"u8.ToArray() },
        { "lone surrogate in a key", "{\"type\":\"ADDED\",\"object\":{\"\\uD800\":1}}"u8.ToArray() },
        { "lone surrogate in the type", "{\"type\":\"\\uD800\",\"object\":{}}"u8.ToArray() },
        { "duplicate type key", "{\"type\":\"ADDED\",\"type\":\"DELETED\",\"object\":{}}"u8.ToArray() },
        { "duplicate key in the object", "{\"type\":\"ADDED\",\"object\":{\"a\":1,\"a\":2}}"u8.ToArray() },
        { "not JSON", "{\"type\":"u8.ToArray() },
        { "type not a string", "{\"type\":1,\"object\":{}}"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(BadWatchLines))]
    public void A_defective_watch_line_is_a_KubeApiException_and_nothing_else(string what, byte[] line)
    {
        var ex = Record.Exception(() => KubeApiClient.ParseWatchEvent(line, "/apis/x"));

        var kube = Assert.IsType<KubeApiException>(ex);
        Assert.True(kube.Reason == "InvalidWatchEvent", what);
    }

    [Theory]
    [MemberData(nameof(BadWatchLines))]
    public async Task A_defective_watch_line_from_the_server_ends_the_watch_with_a_KubeApiException(string what, byte[] line)
    {
        _server.Handler = async ctx =>
        {
            await ctx.Response.WriteAsync("""{"type":"ADDED","object":{"metadata":{"name":"ok"}}}""" + "\n");
            await ctx.Response.Body.WriteAsync(line);
            await ctx.Response.WriteAsync("\n");
        };
        using var client = Client();
        var events = new List<KubeWatchEvent>();

        var ex = await Record.ExceptionAsync(async () =>
        {
            await foreach (var evt in client.WatchAsync(KubeResource.ResourceClaims("v1"), null, null, CancellationToken.None))
            {
                events.Add(evt);
            }
        });

        Assert.True(ex is KubeApiException { Reason: "InvalidWatchEvent" }, $"{what}: {ex}");
        Assert.Single(events);
    }

    [Fact]
    public async Task A_response_with_a_lone_surrogate_or_duplicate_key_is_a_KubeApiException()
    {
        _server.Handler = ctx => TestApiServer.WriteJsonAsync(ctx, 200, """{"kind":"List","items":[{"metadata":{"name":"\uDC00"}}]}""");
        using var client = Client();

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => client.ListAsync(KubeResource.Nodes, null, null, CancellationToken.None));
        Assert.Equal("InvalidResponse", ex.Reason);

        _server.Handler = ctx => TestApiServer.WriteJsonAsync(ctx, 200, """{"kind":"List","kind":"Other","items":[]}""");
        ex = await Assert.ThrowsAsync<KubeApiException>(() => client.ListAsync(KubeResource.Nodes, null, null, CancellationToken.None));
        Assert.Equal("InvalidResponse", ex.Reason);
    }
}
