using System.Net;
using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.Tests;

/// <summary>The OpenAPI v3 documents kubectl reads for explain and for deciding how to patch.</summary>
public class OpenApiSchemaTests
{
    private static JsonObject Component(JsonObject doc, string name) =>
        doc["components"]!["schemas"]![name]?.AsObject() ?? throw new Xunit.Sdk.XunitException($"no component {name}");

    private static JsonNode? At(JsonNode schema, params string[] path)
    {
        var node = schema;
        foreach (var step in path)
        {
            node = step == "[]" ? node?["items"] : node?["properties"]?[step];
        }

        return node;
    }

    [Theory]
    [InlineData("1.32", "v1beta1")]
    [InlineData("1.33", "v1beta2")]
    [InlineData("1.33", "v1beta1")]
    [InlineData("1.34", "v1")]
    [InlineData("1.36", "v1")]
    public async Task Every_served_resource_version_has_a_schema_kubectl_explain_finds_by_gvk(string kubernetes, string version)
    {
        await using var t = await TestServer.StartAsync(kubernetes);
        var (_, index) = await t.GetAsync("/openapi/v3");
        var url = index["paths"]![$"apis/resource.k8s.io/{version}"]!["serverRelativeURL"]!.GetValue<string>();
        var (status, doc) = await t.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, status);

        foreach (var (kind, plural, namespaced) in new[] { ("ResourceSlice", "resourceslices", false), ("ResourceClaim", "resourceclaims", true), ("ResourceClaimTemplate", "resourceclaimtemplates", true), ("DeviceClass", "deviceclasses", false) })
        {
            var schema = Component(doc, $"io.k8s.api.resource.{version}.{kind}");
            var gvk = Assert.Single(schema["x-kubernetes-group-version-kind"]!.AsArray())!;
            Assert.Equal(("resource.k8s.io", version, kind), (gvk["group"]!.GetValue<string>(), gvk["version"]!.GetValue<string>(), gvk["kind"]!.GetValue<string>()));
            Assert.Equal("object", At(schema, "spec")!["type"]!.GetValue<string>());
            Assert.Equal("string", At(schema, "metadata", "name")!["type"]!.GetValue<string>());

            // explain looks the GVK up from an operation on the resource's path.
            var item = namespaced ? $"/apis/resource.k8s.io/{version}/namespaces/{{namespace}}/{plural}/{{name}}" : $"/apis/resource.k8s.io/{version}/{plural}/{{name}}";
            var patch = doc["paths"]![item]!["patch"]!;
            Assert.Equal(kind, patch["x-kubernetes-group-version-kind"]!["kind"]!.GetValue<string>());
            Assert.Contains(patch["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "fieldValidation");
            // Strategic merge is not offered: the server applies it as a JSON merge patch.
            var media = patch["requestBody"]!["content"]!.AsObject().Select(c => c.Key).ToList();
            Assert.Equal(["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"], media);
        }

        var claim = Component(doc, $"io.k8s.api.resource.{version}.ResourceClaim");
        var request = At(claim, "spec", "devices", "requests", "[]")!;
        var mode = version == "v1beta1" ? At(request, "allocationMode") : At(request, "exactly", "allocationMode");
        Assert.Equal(["ExactCount", "All"], mode!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal("integer", (version == "v1beta1" ? At(request, "count") : At(request, "exactly", "count"))!["type"]!.GetValue<string>());
        Assert.Equal("atomic", At(claim, "spec", "devices", "requests")!["x-kubernetes-list-type"]!.GetValue<string>());
        Assert.True(At(claim, "spec", "devices", "config", "[]", "opaque", "parameters")!["x-kubernetes-preserve-unknown-fields"]!.GetValue<bool>());
        Assert.NotNull(At(claim, "status", "allocation", "devices", "results"));

        var slice = Component(doc, $"io.k8s.api.resource.{version}.ResourceSlice");
        var capacity = version == "v1beta1" ? At(slice, "spec", "devices", "[]", "basic", "capacity") : At(slice, "spec", "devices", "[]", "capacity");
        Assert.Equal("quantity", capacity!["additionalProperties"]!["properties"]!["value"]!["format"]!.GetValue<string>());
    }

    [Fact]
    public async Task Core_kinds_have_metadata_schemas_and_openapi_v2_is_not_published()
    {
        await using var t = await TestServer.StartAsync("1.34");
        var (_, doc) = await t.GetAsync("/openapi/v3/api/v1");
        var node = Component(doc, "io.k8s.api.core.v1.Node");
        Assert.Equal("Node", node["x-kubernetes-group-version-kind"]![0]!["kind"]!.GetValue<string>());
        Assert.True(node["x-kubernetes-preserve-unknown-fields"]!.GetValue<bool>());
        Assert.NotNull(At(node, "metadata", "labels"));
        Assert.NotNull(doc["paths"]!["/api/v1/nodes"]!["get"]);
        var (_, apps) = await t.GetAsync("/openapi/v3/apis/apps/v1");
        Component(apps, "io.k8s.api.apps.v1.DaemonSet");

        Assert.Equal(HttpStatusCode.NotFound, (await t.GetAsync("/openapi/v2")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await t.GetAsync("/openapi/v3/apis/resource.k8s.io/v9")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await t.GetAsync("/openapi/v3/apis/nothing.example.com/v1")).Status);
    }
}
