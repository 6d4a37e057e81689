using System.Net;

namespace SecureDra.LocalCluster.Tests;

public class DiscoveryTests
{
    [Theory]
    [InlineData("1.32", "v1beta1", "v1beta1")]
    [InlineData("1.33", "v1beta2", "v1beta2,v1beta1")]
    [InlineData("1.34", "v1", "v1,v1beta2,v1beta1")]
    [InlineData("1.35", "v1", "v1,v1beta2,v1beta1")]
    [InlineData("1.36", "v1", "v1,v1beta2,v1beta1")]
    public async Task Resource_group_serves_exactly_the_versions_of_that_release(string kubernetes, string preferred, string versions)
    {
        await using var t = await TestServer.StartAsync(kubernetes);
        var (_, version) = await t.GetAsync("/version");
        Assert.Equal($"v{kubernetes}.0", version["gitVersion"]!.GetValue<string>());
        Assert.Equal(kubernetes.Split('.')[1], version["minor"]!.GetValue<string>());

        var (_, group) = await t.GetAsync("/apis/resource.k8s.io");
        Assert.Equal("APIGroup", group["kind"]!.GetValue<string>());
        Assert.Equal(preferred, group["preferredVersion"]!["version"]!.GetValue<string>());
        Assert.Equal(versions, string.Join(",", group["versions"]!.AsArray().Select(v => v!["version"]!.GetValue<string>())));

        var (_, groups) = await t.GetAsync("/apis");
        var resourceGroup = groups["groups"]!.AsArray().Single(g => g!["name"]!.GetValue<string>() == "resource.k8s.io");
        Assert.Equal(versions.Split(',').Length, resourceGroup!["versions"]!.AsArray().Count);

        foreach (var v in new[] { "v1beta1", "v1beta2", "v1" })
        {
            var served = versions.Split(',').Contains(v);
            var (listStatus, list) = await t.GetAsync($"/apis/resource.k8s.io/{v}");
            Assert.Equal(served ? HttpStatusCode.OK : HttpStatusCode.NotFound, listStatus);
            var (sliceStatus, _) = await t.GetAsync($"/apis/resource.k8s.io/{v}/resourceslices");
            Assert.Equal(served ? HttpStatusCode.OK : HttpStatusCode.NotFound, sliceStatus);
            if (served)
            {
                var names = list["resources"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToList();
                Assert.Equal(["resourceslices", "resourceclaims", "resourceclaims/status", "resourceclaimtemplates", "deviceclasses"], names);
                var slices = list["resources"]!.AsArray().Single(r => r!["name"]!.GetValue<string>() == "resourceslices")!;
                Assert.False(slices["namespaced"]!.GetValue<bool>());
                Assert.Equal("ResourceSlice", slices["kind"]!.GetValue<string>());
                Assert.Equal("resourceslice", slices["singularName"]!.GetValue<string>());
                Assert.Contains("deletecollection", slices["verbs"]!.AsArray().Select(x => x!.GetValue<string>()));
                var claims = list["resources"]!.AsArray().Single(r => r!["name"]!.GetValue<string>() == "resourceclaims")!;
                Assert.True(claims["namespaced"]!.GetValue<bool>());
            }
        }
    }

    [Fact]
    public async Task Core_discovery_lists_resources_with_short_names()
    {
        await using var t = await TestServer.StartAsync();
        var (_, api) = await t.GetAsync("/api");
        Assert.Equal("APIVersions", api["kind"]!.GetValue<string>());
        var (_, v1) = await t.GetAsync("/api/v1");
        Assert.Equal("APIResourceList", v1["kind"]!.GetValue<string>());
        var nodes = v1["resources"]!.AsArray().Single(r => r!["name"]!.GetValue<string>() == "nodes")!;
        Assert.Equal("no", nodes["shortNames"]![0]!.GetValue<string>());
        Assert.Contains(v1["resources"]!.AsArray(), r => r!["name"]!.GetValue<string>() == "namespaces");
        var (_, groups) = await t.GetAsync("/apis");
        var names = groups["groups"]!.AsArray().Select(g => g!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["coordination.k8s.io", "events.k8s.io", "apps", "policy", "networking.k8s.io", "rbac.authorization.k8s.io", "admissionregistration.k8s.io", "resource.k8s.io"], names);
        var (ok, _) = await t.GetAsync("/openapi/v3");
        Assert.Equal(HttpStatusCode.OK, ok);
    }
}
