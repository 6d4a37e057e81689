using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;

namespace SecureDra.Kube.Tests;

/// <summary>ResourceApi against a real HTTP server that serves a chosen set of resource.k8s.io versions, as an API server does.</summary>
public sealed class ResourceApiTests : IAsyncLifetime
{
    private TestApiServer _server = null!;
    private KubeApiClient _client = null!;
    private volatile string[] _served = ["v1beta1", "v1beta2", "v1"];
    private volatile bool _claimExists = true;

    public async Task InitializeAsync()
    {
        _server = await TestApiServer.StartAsync(HandleAsync);
        _client = new KubeApiClient(new HttpClient(), _server.Url, ownsHttpClient: true);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value!;
        var served = _served;
        if (path == "/apis/resource.k8s.io")
        {
            if (served.Length == 0)
            {
                await NotFound(ctx);
                return;
            }

            var versions = new JsonArray([.. served.Select(v => (JsonNode)new JsonObject { ["groupVersion"] = $"resource.k8s.io/{v}", ["version"] = v })]);
            await TestApiServer.WriteJsonAsync(ctx, 200, new JsonObject
            {
                ["kind"] = "APIGroup",
                ["apiVersion"] = "v1",
                ["name"] = "resource.k8s.io",
                ["versions"] = versions,
                ["preferredVersion"] = versions[0]!.DeepClone(),
            }.ToJsonString());
            return;
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length < 4 || segments[1] != "resource.k8s.io" || !served.Contains(segments[2]))
        {
            await NotFound(ctx);
            return;
        }

        var version = segments[2];
        var golden = version switch { "v1" => "v1", "v1beta2" => "v1beta2", _ => "v1beta1" };
        if (path.EndsWith("/resourceslices", StringComparison.Ordinal) && ctx.Request.Method == "GET")
        {
            var item = Golden.Object($"slice-{golden}.json");
            item.Remove("apiVersion");
            item.Remove("kind");
            item["metadata"]!["name"] = "node-a-gpu.nvidia.com-abcde";
            await TestApiServer.WriteJsonAsync(ctx, 200, new JsonObject
            {
                ["apiVersion"] = $"resource.k8s.io/{version}",
                ["kind"] = "ResourceSliceList",
                ["metadata"] = new JsonObject { ["resourceVersion"] = "5" },
                ["items"] = new JsonArray(item),
            }.ToJsonString());
            return;
        }

        if (path.EndsWith("/resourceslices", StringComparison.Ordinal) && ctx.Request.Method == "POST")
        {
            var body = JsonNode.Parse((string)ctx.Items["body"]!)!.AsObject();
            body["metadata"]!["name"] = "node-a-gpu.nvidia.com-fghij";
            body["metadata"]!["resourceVersion"] = "6";
            await TestApiServer.WriteJsonAsync(ctx, 201, body.ToJsonString());
            return;
        }

        if (segments.Contains("resourceclaims") && ctx.Request.Method == "GET" && segments[^1] == "deep")
        {
            var deep = string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200);
            await TestApiServer.WriteJsonAsync(ctx, 200, Golden.Text($"claim-{golden}.json").Replace("{\"x\":1}", deep, StringComparison.Ordinal));
            return;
        }

        if (segments.Contains("resourceclaims") && ctx.Request.Method == "GET" && _claimExists)
        {
            await TestApiServer.WriteJsonAsync(ctx, 200, Golden.Text($"claim-{golden}.json"));
            return;
        }

        await TestApiServer.WriteJsonAsync(ctx, 404, """{"kind":"Status","status":"Failure","reason":"NotFound","message":"resourceslices.resource.k8s.io \"x\" not found","details":{"name":"x"},"code":404}""");
    }

    private static Task NotFound(HttpContext ctx) => TestApiServer.WriteJsonAsync(ctx, 404,
        """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}""");

    [Theory]
    [InlineData(new[] { "v1beta1", "v1beta2", "v1" }, ResourceApiVersion.V1)]
    [InlineData(new[] { "v1", "v1beta1" }, ResourceApiVersion.V1)]
    [InlineData(new[] { "v1beta1", "v1beta2" }, ResourceApiVersion.V1Beta2)]
    [InlineData(new[] { "v1alpha3", "v1beta1" }, ResourceApiVersion.V1Beta1)]
    public async Task Picks_the_newest_served_version(string[] served, ResourceApiVersion expected)
    {
        _served = served;
        using var api = new ResourceApi(_client);
        var seen = new List<ResourceApiVersion>();
        api.VersionChanged += (_, v) => seen.Add(v);

        Assert.False(api.IsNegotiated);
        Assert.Equal(expected, await api.NegotiateAsync(CancellationToken.None));
        Assert.Equal(expected, api.Version);
        Assert.Equal(expected.ToWire(), api.WireVersion);
        Assert.Equal([expected], seen);
    }

    [Theory]
    [InlineData(new string[0], "")]
    [InlineData(new[] { "v1alpha3" }, " (it serves v1alpha3)")]
    public async Task Serving_none_is_one_clear_error(string[] served, string servedText)
    {
        _served = served;
        using var api = new ResourceApi(_client);

        var ex = await Assert.ThrowsAsync<ResourceApiNotServedException>(() => api.NegotiateAsync(CancellationToken.None));

        Assert.Equal(
            $"the API server serves none of resource.k8s.io v1, v1beta2, v1beta1{servedText}: DRA is not enabled (Kubernetes ≥1.32 with the DynamicResourceAllocation feature gate and the resource.k8s.io API group enabled)",
            ex.Message);
        Assert.Throws<InvalidOperationException>(() => api.Version);
    }

    [Fact]
    public async Task A_v1beta1_cluster_gets_only_v1beta1_requests_in_the_v1beta1_shape()
    {
        _served = ["v1beta1"];
        using var api = new ResourceApi(_client);

        var slices = await api.ListSlicesAsync("gpu.nvidia.com", "node-a", CancellationToken.None);
        var created = await api.CreateSliceAsync(ResourceSliceConverterTests.SampleSlice(), CancellationToken.None);
        var claim = await api.GetClaimAsync("team-a", "tenant-gpu", CancellationToken.None);

        Assert.Equal("node-a-gpu.nvidia.com-abcde", Assert.Single(slices).Name);
        Assert.Equal(2, slices[0].Devices.Count);
        Assert.Equal("node-a-gpu.nvidia.com-fghij", created.Name);
        Assert.Equal("gpu.nvidia.com", claim!.Requests[0].DeviceClassName);
        var requests = _server.Requests.ToArray();
        Assert.All(requests.Where(r => r.Path != "/apis/resource.k8s.io"), r => Assert.StartsWith("/apis/resource.k8s.io/v1beta1/", r.Path, StringComparison.Ordinal));
        Assert.Contains(requests, r => r.Query == "?fieldSelector=spec.driver%3Dgpu.nvidia.com%2Cspec.nodeName%3Dnode-a");
        var posted = JsonNode.Parse(requests.Single(r => r.Method == "POST").Body)!;
        Assert.Equal("resource.k8s.io/v1beta1", (string?)posted["apiVersion"]);
        Assert.NotNull(posted["spec"]!["devices"]![0]!["basic"]);
    }

    [Fact]
    public async Task A_gone_version_is_renegotiated_and_the_call_retried_once()
    {
        _served = ["v1beta1", "v1"];
        using var api = new ResourceApi(_client);
        var seen = new List<ResourceApiVersion>();
        api.VersionChanged += (_, v) => seen.Add(v);
        await api.NegotiateAsync(CancellationToken.None);

        _served = ["v1beta1"];
        var slices = await api.ListSlicesAsync("gpu.nvidia.com", "node-a", CancellationToken.None);

        Assert.Single(slices);
        Assert.Equal(ResourceApiVersion.V1Beta1, api.Version);
        Assert.Equal([ResourceApiVersion.V1, ResourceApiVersion.V1Beta1], seen);
        Assert.Equal(
            ["/apis/resource.k8s.io", "/apis/resource.k8s.io/v1/resourceslices", "/apis/resource.k8s.io", "/apis/resource.k8s.io", "/apis/resource.k8s.io/v1beta1/resourceslices"],
            _server.Requests.Select(r => r.Path));
    }

    [Fact]
    public async Task A_claim_get_that_404s_because_the_version_is_gone_is_retried()
    {
        _served = ["v1beta2", "v1"];
        using var api = new ResourceApi(_client);
        await api.NegotiateAsync(CancellationToken.None);
        _served = ["v1beta2"];

        var claim = await api.GetClaimAsync("team-a", "tenant-gpu", CancellationToken.None);

        Assert.NotNull(claim);
        Assert.Equal(ResourceApiVersion.V1Beta2, api.Version);
    }

    [Fact]
    public async Task A_missing_claim_in_a_served_version_is_null()
    {
        _claimExists = false;
        using var api = new ResourceApi(_client);

        Assert.Null(await api.GetClaimAsync("team-a", "gone", CancellationToken.None));
        Assert.Equal(ResourceApiVersion.V1, api.Version);
        Assert.Equal(2, _server.Requests.Count(r => r.Path == "/apis/resource.k8s.io"));
    }

    [Fact]
    public async Task A_404_for_a_missing_object_in_a_served_version_is_not_retried()
    {
        using var api = new ResourceApi(_client);
        var slice = ResourceSliceConverterTests.SampleSlice() with { Name = "x", ResourceVersion = "3" };

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => api.UpdateSliceAsync(slice, CancellationToken.None));

        Assert.True(ex.IsNotFound);
        Assert.Single(_server.Requests, r => r.Method == "PUT");
    }

    [Fact]
    public async Task Deeply_nested_opaque_parameters_reach_the_caller_as_raw_text()
    {
        using var api = new ResourceApi(_client);

        var claim = await api.GetClaimAsync("team-a", "deep", CancellationToken.None);

        Assert.StartsWith("{\"a\":{\"a\":", claim!.Config[1].OpaqueParametersJson, StringComparison.Ordinal);
        Assert.Equal(200, claim.Config[1].OpaqueParametersJson!.Count(c => c == '{'));
    }
}
