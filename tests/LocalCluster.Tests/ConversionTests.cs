using System.Net;
using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.Tests;

public class ConversionTests
{
    [Fact]
    public async Task Slice_written_in_v1beta1_reads_back_flat_in_v1_and_v1beta2_and_round_trips()
    {
        await using var t = await TestServer.StartAsync("1.34");
        var original = Objects.Slice("v1beta1", "s");
        var created = await t.CreateAsync(Objects.ResourcePath("v1beta1", "resourceslices"), original.ToJsonString());
        Assert.NotNull(created["spec"]!["devices"]![0]!["basic"]!["attributes"]);

        var (_, v1) = await t.GetAsync(Objects.ResourcePath("v1", "resourceslices") + "/s");
        Assert.Equal("resource.k8s.io/v1", v1["apiVersion"]!.GetValue<string>());
        var device = v1["spec"]!["devices"]![0]!;
        Assert.Null(device["basic"]);
        Assert.Equal("550.54.15", device["attributes"]!["driverVersion"]!["version"]!.GetValue<string>());
        Assert.Equal("80Gi", device["capacity"]!["memory"]!["value"]!.GetValue<string>());

        var (_, v1beta2) = await t.GetAsync(Objects.ResourcePath("v1beta2", "resourceslices") + "/s");
        Assert.True(JsonNode.DeepEquals(v1["spec"], v1beta2["spec"]));

        // Update through v1, read back through v1beta1: the same object, converted.
        v1["spec"]!["devices"]![0]!["attributes"]!["index"] = new JsonObject { ["int"] = 3 };
        var (ok, _) = await t.PutAsync(Objects.ResourcePath("v1", "resourceslices") + "/s", v1);
        Assert.Equal(HttpStatusCode.OK, ok);
        var (_, back) = await t.GetAsync(Objects.ResourcePath("v1beta1", "resourceslices") + "/s");
        Assert.Equal(3, back["spec"]!["devices"]![0]!["basic"]!["attributes"]!["index"]!["int"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(original["spec"]!["devices"]![0]!["basic"]!["capacity"], back["spec"]!["devices"]![0]!["basic"]!["capacity"]));
    }

    [Fact]
    public async Task Claim_requests_are_flat_in_v1beta1_and_under_exactly_in_v1()
    {
        await using var t = await TestServer.StartAsync("1.36");
        var path = "/apis/resource.k8s.io/{0}/namespaces/default/resourceclaims";
        await t.CreateAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, "v1"), Objects.Claim("v1", "c").ToJsonString());
        var (_, beta1) = await t.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, "v1beta1") + "/c");
        var request = beta1["spec"]!["devices"]!["requests"]![0]!;
        Assert.Null(request["exactly"]);
        Assert.Equal("gpu.nvidia.com", request["deviceClassName"]!.GetValue<string>());
        Assert.Equal("ExactCount", request["allocationMode"]!.GetValue<string>());

        await t.CreateAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, "v1beta1"), Objects.Claim("v1beta1", "d").ToJsonString());
        var (_, v1) = await t.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, "v1") + "/d");
        Assert.Equal("gpu.nvidia.com", v1["spec"]!["devices"]!["requests"]![0]!["exactly"]!["deviceClassName"]!.GetValue<string>());
        Assert.Null(v1["spec"]!["devices"]!["requests"]![0]!["deviceClassName"]);
    }

    [Fact]
    public async Task Watch_in_v1beta1_sees_objects_written_in_v1_in_the_v1beta1_shape()
    {
        await using var t = await TestServer.StartAsync("1.36");
        using var watch = await WatchReader.OpenAsync(t, Objects.ResourcePath("v1beta1", "resourceslices") + "?watch=true");
        await t.CreateAsync(Objects.ResourcePath("v1", "resourceslices"), Objects.Slice("v1", "s").ToJsonString());
        var added = await watch.NextAsync();
        Assert.Equal("ADDED", added["type"]!.GetValue<string>());
        Assert.Equal("resource.k8s.io/v1beta1", added["object"]!["apiVersion"]!.GetValue<string>());
        Assert.NotNull(added["object"]!["spec"]!["devices"]![0]!["basic"]);
    }
}
