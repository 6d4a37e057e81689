using System.Net;
using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.Tests;

public class StrictFieldTests
{
    [Theory]
    [InlineData("1.34", "v1")]
    [InlineData("1.36", "v1beta2")]
    public async Task Basic_wrapper_is_unknown_in_v1_and_v1beta2(string kubernetes, string version)
    {
        await using var t = await TestServer.StartAsync(kubernetes);
        var slice = Objects.Slice(version, "s");
        slice["spec"]!["devices"] = new JsonArray(Objects.Device("v1beta1", "gpu-0"));
        var (status, body) = await t.PostAsync(Objects.ResourcePath(version, "resourceslices"), slice);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("BadRequest", body["reason"]!.GetValue<string>());
        Assert.Equal($"ResourceSlice in version \"{version}\" cannot be handled as a ResourceSlice: strict decoding error: unknown field \"spec.devices[0].basic\"", body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Flat_device_fields_are_unknown_in_v1beta1()
    {
        await using var t = await TestServer.StartAsync("1.32");
        var slice = Objects.Slice("v1beta1", "s");
        slice["spec"]!["devices"] = new JsonArray(Objects.Device("v1", "gpu-0"));
        var (status, body) = await t.PostAsync(Objects.ResourcePath("v1beta1", "resourceslices"), slice);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var message = body["message"]!.GetValue<string>();
        Assert.Contains("unknown field \"spec.devices[0].attributes\"", message, StringComparison.Ordinal);
        Assert.Contains("unknown field \"spec.devices[0].capacity\"", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exactly_is_unknown_in_v1beta1_claims_and_flat_request_fields_are_unknown_in_v1()
    {
        await using var t = await TestServer.StartAsync("1.34");
        var beta1 = Objects.Claim("v1", "c");
        beta1["apiVersion"] = "resource.k8s.io/v1beta1";
        var (status, body) = await t.PostAsync("/apis/resource.k8s.io/v1beta1/namespaces/default/resourceclaims", beta1);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("unknown field \"spec.devices.requests[0].exactly\"", body["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var v1 = Objects.Claim("v1beta1", "c");
        v1["apiVersion"] = "resource.k8s.io/v1";
        var (status2, body2) = await t.PostAsync("/apis/resource.k8s.io/v1/namespaces/default/resourceclaims", v1);
        Assert.Equal(HttpStatusCode.BadRequest, status2);
        Assert.Contains("unknown field \"spec.devices.requests[0].deviceClassName\"", body2["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.32", false)]
    [InlineData("1.33", true)]
    public async Task Taints_field_exists_from_1_33(string kubernetes, bool known)
    {
        await using var t = await TestServer.StartAsync(kubernetes, o => o.DeviceTaints = true);
        var taint = new JsonObject { ["taints"] = new JsonArray(new JsonObject { ["key"] = "securedra.io/dirty", ["effect"] = "NoSchedule" }) };
        var slice = Objects.Slice("v1beta1", "s", extra: _ => taint);
        var (status, body) = await t.PostAsync(Objects.ResourcePath("v1beta1", "resourceslices"), slice);
        if (known)
        {
            Assert.Equal(HttpStatusCode.Created, status);
            Assert.Equal("NoSchedule", body["spec"]!["devices"]![0]!["basic"]!["taints"]![0]!["effect"]!.GetValue<string>());
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains("unknown field \"spec.devices[0].basic.taints\"", body["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Gated_off_taints_are_dropped_like_the_real_server_drops_them()
    {
        await using var t = await TestServer.StartAsync("1.35");
        var taint = new JsonObject { ["taints"] = new JsonArray(new JsonObject { ["key"] = "securedra.io/dirty", ["effect"] = "NoSchedule" }) };
        var created = await t.CreateAsync(Objects.ResourcePath("v1", "resourceslices"), Objects.Slice("v1", "s", extra: _ => taint).ToJsonString());
        Assert.Null(created["spec"]!["devices"]![0]!["taints"]);
    }

    [Fact]
    public async Task Unknown_top_level_and_metadata_fields_are_rejected_and_other_groups_are_lenient()
    {
        await using var t = await TestServer.StartAsync();
        var slice = Objects.Slice("v1", "s");
        slice["bogus"] = 1;
        slice["metadata"]!["nmae"] = "x";
        var (status, body) = await t.PostAsync(Objects.ResourcePath("v1", "resourceslices"), slice);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("unknown field \"bogus\"", body["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("unknown field \"metadata.nmae\"", body["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var (dup, dupBody) = await t.SendAsync(HttpMethod.Post, Objects.ResourcePath("v1", "resourceslices"), null);
        Assert.Equal(HttpStatusCode.BadRequest, dup);
        Assert.Equal("Status", dupBody["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Duplicate_json_keys_are_rejected()
    {
        await using var t = await TestServer.StartAsync();
        using var content = new StringContent("""{"metadata":{"name":"a","name":"b"}}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await t.Http.PostAsync("/api/v1/nodes", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Wrong_apiVersion_in_body_is_rejected()
    {
        await using var t = await TestServer.StartAsync("1.36");
        var slice = Objects.Slice("v1beta1", "s");
        var (status, body) = await t.PostAsync(Objects.ResourcePath("v1", "resourceslices"), slice);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("does not match the expected API version (resource.k8s.io/v1)", body["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
