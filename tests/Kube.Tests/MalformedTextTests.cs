using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;

namespace SecureDra.Kube.Tests;

/// <summary>
/// Issue 16 defect 1, found by fuzzing: JsonNode.Parse accepts invalid UTF-8 and lone surrogate escapes inside
/// strings and fails only when they are materialised, with InvalidOperationException. The converters' contract is
/// that a malformed object is a <see cref="KubeObjectFormatException"/> naming the field, never a crash. Each input
/// here is also a corpus entry of the resource-claim, resource-slice or watch-stream fuzz target.
/// </summary>
public sealed class MalformedTextTests
{
    private static JsonObject Parse(byte[] utf8) => JsonNode.Parse(utf8, documentOptions: new JsonDocumentOptions { MaxDepth = 1000 })!.AsObject();

    private static byte[] Bytes(string ascii) => Encoding.Latin1.GetBytes(ascii);

    public static TheoryData<string, string> Claims => new()
    {
        { """{"metadata":{"name":"\uDC00"}}""", "metadata.name" },
        { """{"metadata":{"namespace":"\uD800x"}}""", "metadata.namespace" },
        { "{\"metadata\":{\"\xff\xfe\":\"x\",\"name\":\"a\"}}", "metadata" },
        { "{\"metadata\":{\"name\":\"\xff\xfe\"}}", "metadata.name" },
        { "{\"apiVersion\":\"resource.k8s.io/v1\",\"spec\":{\"devices\":{\"requests\":[{\"name\":\"\xff\xfe\",\"exactly\":{\"deviceClassName\":\"c\"}}]}}}", "spec.devices.requests[0].name" },
        { "{\"status\":{\"allocation\":{\"devices\":{\"config\":[{\"requests\":[\"\xff\xfe\"]}]}}}}", "status.allocation.devices.config[0].requests[0]" },
        { """{"status":{"allocation":{"devices":{"results":[{"request":"r","driver":"d","pool":"p","device":"\uDFFF"}]}}}}""", "status.allocation.devices.results[0].device" },
        { """{"spec":{"devices":{"config":[{"opaque":{"driver":"\uD800"}}]}}}""", "spec.devices.config[0].opaque.driver" },
        { "{\"spec\":{\"devices\":{\"config\":[{\"requests\":[\"\xc0\xaf\"]}]}}}", "spec.devices.config[0].requests[0]" },
    };

    [Theory]
    [MemberData(nameof(Claims))]
    public void A_claim_with_invalid_text_is_a_format_error_naming_the_field(string json, string field)
    {
        var ex = Assert.Throws<KubeObjectFormatException>(() => ResourceClaimConverter.FromJson(Parse(Bytes(json))));

        Assert.Equal(field, ex.Field);
        Assert.Contains("not valid UTF-8 or holds a lone surrogate escape", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> Slices => new()
    {
        { "{\"spec\":{\"driver\":\"d\",\"pool\":{\"name\":\"p\"},\"devices\":[{\"name\":\"g\",\"attributes\":{\"\xff\":{\"string\":\"x\"}}}]}}", "spec.devices[0].attributes" },
        { """{"spec":{"driver":"d","pool":{"name":"p"},"devices":[{"name":"g","capacity":{"m":{"value":"\uD800"}}}]}}""", "spec.devices[0].capacity[m].value" },
        { """{"spec":{"driver":"\uDC00","pool":{"name":"p"}}}""", "spec.driver" },
        { """{"spec":{"driver":"d","pool":{"name":"p"},"devices":[{"name":"g","attributes":{"a":{"int":null}}}]}}""", "spec.devices[0].attributes[a].int" },
        { """{"spec":{"driver":"d","pool":{"name":"p"},"devices":[{"name":"g","attributes":{"a":{"string":null}}}]}}""", "spec.devices[0].attributes[a].string" },
        { """{"spec":{"driver":"d","pool":{"name":"p"},"devices":[{"name":"g","attributes":{"a":{"bool":null}}}]}}""", "spec.devices[0].attributes[a].bool" },
    };

    [Theory]
    [MemberData(nameof(Slices))]
    public void A_slice_with_invalid_text_or_a_null_attribute_is_a_format_error(string json, string field)
    {
        Assert.Equal(field, Assert.Throws<KubeObjectFormatException>(() => ResourceSliceConverter.FromJson(Parse(Bytes(json)))).Field);
    }

    [Fact]
    public async Task A_watched_slice_with_invalid_text_in_its_metadata_is_the_clients_error()
    {
        // A watch event's object is read (its resourceVersion first) only after the line passed the UTF-8 check.
        await using var server = await TestApiServer.StartAsync(async ctx =>
        {
            ctx.Response.ContentType = "application/json";
            var body = ctx.Request.Path == "/apis/resource.k8s.io"
                ? Bytes("""{"versions":[{"version":"v1"}]}""")
                : Bytes("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"\xff\":\"x\"},\"spec\":{}}}\n");
            await ctx.Response.Body.WriteAsync(body);
        });
        using var client = new KubeApiClient(new HttpClient(), server.Url, ownsHttpClient: true);

        // The watch line is checked as UTF-8 before anything reads it, so the client's own error type says so.
        var ex = await Assert.ThrowsAsync<KubeApiException>(async () =>
        {
            await foreach (var _ in client.WatchAsync(KubeResource.ResourceSlices("v1"), null, null, CancellationToken.None))
            {
            }
        });
        Assert.Contains("not valid UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parameters_as_deep_as_the_client_reads_convert_back_to_json()
    {
        // Depth rule (docs/fuzzing.md): every parse names its limit. The client reads objects up to depth 1000;
        // ToJson parsed the kept text with the default 64 and threw on a claim the client had just read.
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200);
        var json = "{\"apiVersion\":\"resource.k8s.io/v1\",\"metadata\":{\"name\":\"c\",\"namespace\":\"n\"},\"spec\":{\"devices\":{\"config\":[{\"opaque\":{\"driver\":\"gpu.nvidia.com\",\"parameters\":" + deep + "}}]}}}";
        var claim = ResourceClaimConverter.FromJson(Parse(Encoding.UTF8.GetBytes(json)));

        var back = ResourceClaimConverter.ToJson(claim, ResourceApiVersion.V1);

        Assert.Equal(deep, ResourceClaimConverter.FromJson(back).Config[0].OpaqueParametersJson);
    }
}
