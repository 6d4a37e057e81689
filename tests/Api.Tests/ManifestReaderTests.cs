using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SecureDra.Api.Manifests;

namespace SecureDra.Api.Tests;

public class ManifestReaderTests
{
    private static readonly ManifestReader Reader = new();

    private static ManifestReadResult Read(string yaml, ManifestReader? reader = null) => (reader ?? Reader).Read(Encoding.UTF8.GetBytes(yaml));

    private static string Errors(ManifestReadResult result) => string.Join(" | ", result.Errors);

    [Fact]
    public void Reads_multiple_documents_and_types_scalars()
    {
        var result = Read("""
            apiVersion: v1
            kind: ConfigMap
            data:
              flag: true
              offText: "false"
              count: 100
              ratio: 1.0
              big: 123456789012345678901234
              exp: 1e2
              nothing: ~
              empty:
              quoted: "100"
              single: 'true'
              literal: |
                text
              hex: 0x1F
              octal: 0o17
              forced: !!str 42
            ---
            # a comment-only document is empty and is not counted
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: tenant-a, labels: {"a": "b"}}
            ---
            """);
        Assert.True(result.IsValid, Errors(result));
        Assert.Equal(2, result.Documents.Count);
        Assert.Equal(2, result.DocumentCount);
        var data = result.Documents[0].Object["data"]!.AsObject();
        Assert.Equal(JsonValueKind.True, data["flag"]!.GetValueKind());
        Assert.Equal(JsonValueKind.String, data["offText"]!.GetValueKind());
        Assert.Equal(100, data["count"]!.GetValue<long>());
        Assert.Equal("1.0", data["ratio"]!.ToJsonString());
        Assert.Equal("123456789012345678901234", data["big"]!.ToJsonString());
        Assert.Equal("1e2", data["exp"]!.ToJsonString());
        Assert.Null(data["nothing"]);
        Assert.True(data.ContainsKey("nothing"));
        Assert.Null(data["empty"]);
        Assert.Equal("100", data["quoted"]!.GetValue<string>());
        Assert.Equal("true", data["single"]!.GetValue<string>());
        Assert.Equal("text\n", data["literal"]!.GetValue<string>());
        Assert.Equal(31, data["hex"]!.GetValue<long>());
        Assert.Equal(15, data["octal"]!.GetValue<long>());
        Assert.Equal("42", data["forced"]!.GetValue<string>());
        Assert.Equal("Namespace", result.Documents[1].Kind);
        Assert.Equal(1, result.Documents[1].Index);
        Assert.Equal("b", result.Documents[1].Object["metadata"]!["labels"]!["a"]!.GetValue<string>());
    }

    [Fact]
    public void Reads_json()
    {
        var result = Read("""{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","sharingTimeSliceMs":100,"x":[1,2.5,"s",null,false]}""");
        Assert.True(result.IsValid, Errors(result));
        Assert.Equal(
            """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","sharingTimeSliceMs":100,"x":[1,2.5,"s",null,false]}""",
            result.Documents[0].Object.ToJsonString());
    }

    [Fact]
    public void Duplicate_keys_drop_the_document_with_an_error()
    {
        var result = Read("""
            kind: A
            ---
            kind: B
            spec:
              resetPolicy: ZeroVRAMOnRelease
              resetPolicy: None
            """);
        Assert.Equal("document[1].spec.resetPolicy: duplicate key (line 6); each key may appear at most once", Errors(result));
        Assert.Equal("A", Assert.Single(result.Documents).Kind);
        Assert.Equal(2, result.DocumentCount);
    }

    [Fact]
    public void Duplicate_keys_in_json_are_rejected() =>
        Assert.Equal(
            "document[0].a: duplicate key (line 1); each key may appear at most once",
            Errors(Read("""{"a": 1, "a": 2}""")));

    [Fact]
    public void Billion_laughs_is_rejected_at_the_first_anchor()
    {
        var yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var i = 1; i < 10; i++)
        {
            var prev = (char)('a' + i - 1);
            var cur = (char)('a' + i);
            yaml.Append(cur).Append(": &").Append(cur).Append(" [").Append(string.Join(',', Enumerable.Repeat("*" + prev, 9))).Append("]\n");
        }

        var stopwatch = Stopwatch.StartNew();
        var result = Read(yaml.ToString());
        Assert.Empty(result.Documents);
        Assert.Equal("document[0].a: YAML anchors are not supported (line 1); write the value out", Errors(result));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Aliases_and_merge_keys_are_rejected()
    {
        Assert.Contains("YAML anchors are not supported", Errors(Read("base: &b {x: 1}\nother: *b\n")), StringComparison.Ordinal);
        Assert.Contains("YAML merge keys (<<) are not supported", Errors(Read("other:\n  <<: {resetPolicy: None}\n")), StringComparison.Ordinal);
    }

    [Fact]
    public void Deep_nesting_is_rejected_with_the_limit()
    {
        var result = Read(new string('[', 200) + new string(']', 200));
        Assert.Empty(result.Documents);
        Assert.Contains("nesting depth 65 exceeds the maximum 64", Errors(result), StringComparison.Ordinal);
    }

    [Fact]
    public void Node_count_is_bounded()
    {
        var reader = new ManifestReader(new ManifestLimits { MaxNodes = 100 });
        var result = Read("[" + string.Join(',', Enumerable.Repeat("1", 200)) + "]", reader);
        Assert.Equal("document[0][99]: more than 100 nodes exceeds the maximum 100", Errors(result));
    }

    [Fact]
    public void Document_count_is_bounded()
    {
        var reader = new ManifestReader(new ManifestLimits { MaxDocuments = 3 });
        var result = Read(string.Concat(Enumerable.Repeat("---\na: 1\n", 5)), reader);
        Assert.Equal("$: more than 3 documents exceeds the maximum 3", Errors(result));
    }

    [Fact]
    public void File_size_is_bounded()
    {
        var reader = new ManifestReader(new ManifestLimits { MaxBytes = 10 });
        Assert.Equal("$: more than 10 bytes exceeds the maximum 10 bytes", Errors(Read("a: 12345678901", reader)));
        Assert.True(Read("a: 1234567", reader).IsValid);
    }

    [Fact]
    public async Task Read_file_async_reads_at_most_the_limit_plus_one()
    {
        var path = Path.Combine(Path.GetTempPath(), $"securedra-manifest-{Guid.NewGuid():N}.yaml");
        try
        {
            await File.WriteAllTextAsync(path, "a: " + new string('x', 100_000));
            var reader = new ManifestReader(new ManifestLimits { MaxBytes = 1024 });
            var result = await reader.ReadFileAsync(path, CancellationToken.None);
            Assert.Equal("$: more than 1024 bytes exceeds the maximum 1024 bytes", Errors(result));

            await File.WriteAllTextAsync(path, "kind: DeviceClass\n");
            Assert.Equal("DeviceClass", Assert.Single((await reader.ReadFileAsync(path, CancellationToken.None)).Documents).Kind);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("a: .nan", "document[0].a: \".nan\" is not allowed; JSON has no NaN or Infinity (line 1)")]
    [InlineData("a: 1e400", "document[0].a: the number \"1e400\" is outside the range of a 64-bit float (line 1)")]
    [InlineData("a: -1.5E+309", "document[0].a: the number \"-1.5E+309\" is outside the range of a 64-bit float (line 1)")]
    [InlineData("{\"a\": 1e400}", "document[0].a: the number \"1e400\" is outside the range of a 64-bit float (line 1)")]
    [InlineData("a: -.inf", "document[0].a: \"-.inf\" is not allowed; JSON has no NaN or Infinity (line 1)")]
    [InlineData("a: yes", "document[0].a: the plain value \"yes\" is a boolean to YAML 1.1 readers such as kubectl (line 1); quote it, or write true or false")]
    [InlineData("on: 1", "document[0].on: the plain key \"on\" is a boolean to YAML 1.1 readers such as kubectl (line 1); quote it")]
    [InlineData("a: !!binary aGVsbG8=", "document[0].a: the YAML tag \"tag:yaml.org,2002:binary\" is not supported (line 1); only !!str is")]
    [InlineData("? [a]\n: 1", "document[0]: mapping keys must be plain strings (line 1)")]
    [InlineData("- a\n- b", "document[0]: must be a mapping (an object), got a sequence")]
    [InlineData("just text", "document[0]: must be a mapping (an object), got a scalar")]
    [InlineData("a: [1, 2", "document[0]: invalid YAML at line")]
    public void StrictnessErrors(string yaml, string expected) =>
        Assert.StartsWith(expected, Errors(Read(yaml)), StringComparison.Ordinal);

    [Theory]
    [InlineData(".nan", "document[0]: \".nan\" is not allowed; JSON has no NaN or Infinity (line 1)")]
    [InlineData(".inf", "document[0]: \".inf\" is not allowed; JSON has no NaN or Infinity (line 1)")]
    [InlineData("-.inf", "document[0]: \"-.inf\" is not allowed; JSON has no NaN or Infinity (line 1)")]
    [InlineData("0x7fffffffffffffffff", "document[0]: the integer \"0x7fffffffffffffffff\" is outside the 64-bit range (line 1)")]
    [InlineData("a: 1\n---\n.nan\n", "document[1]: \".nan\" is not allowed; JSON has no NaN or Infinity (line 3)")]
    [InlineData("1e400", "document[0]: the number \"1e400\" is outside the range of a 64-bit float (line 1)")]
    public void ARootScalarThatFailsToConvertIsReportedNotDroppedAsEmpty(string yaml, string expected)
    {
        // Issue 16 defect 3 (found by the fuzz campaign): these read as null, and the document was then
        // dropped as empty together with its error: 0 documents, 0 errors, "valid".
        var result = Read(yaml);
        Assert.False(result.IsValid);
        Assert.Equal(expected, Errors(result));
    }

    [Theory]
    [InlineData("a: \"\\ud800x\"")]
    [InlineData("a: \"\\udc00\"")]
    [InlineData("{\"a\": \"\\ud83dA\"}")]
    public void LoneSurrogateEscapesAreRejectedNotThrown(string yaml)
    {
        // Found by RobustnessTests: YamlDotNet throws ArgumentOutOfRangeException for these.
        var result = Read(yaml);
        Assert.Empty(result.Documents);
        Assert.Contains(": invalid YAML", Errors(result), StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_is_rejected_not_replaced() =>
        Assert.Equal(
            "$: invalid UTF-8 at byte 3; manifests must be UTF-8 text",
            string.Join(" | ", Reader.Read([(byte)'a', (byte)':', (byte)' ', 0xff]).Errors));

    [Fact]
    public void Byte_order_mark_is_accepted() =>
        Assert.Equal("X", Assert.Single(Reader.Read([.. "\uFEFF"u8, .. "kind: X"u8]).Documents).Kind);

    [Fact]
    public void Empty_input_has_no_documents()
    {
        var result = Read("");
        Assert.True(result.IsValid);
        Assert.Empty(result.Documents);
        Assert.Equal(0, result.DocumentCount);
    }

    [Fact]
    public void Hostile_keys_cannot_forge_paths()
    {
        var result = Read("a:\n  \"x.y\": 1\n  \"x.y\": 2\n");
        Assert.Equal("document[0].a[\"x.y\"]: duplicate key (line 3); each key may appear at most once", Errors(result));
    }

    [Fact]
    public void Result_objects_serialize_as_json() =>
        Assert.Equal("{\"a\":{\"b\":[1,\"c\"]}}", Read("a:\n  b:\n    - 1\n    - c\n").Documents[0].Object.ToJsonString());

    [Fact]
    public void Json_object_round_trip_keeps_numbers_verbatim() =>
        Assert.Equal("[1.50,-0.5,0.5,1.0]", JsonNode.Parse(Read("a: [1.50, -.5, +.5, 1.]").Documents[0].Object["a"]!.ToJsonString())!.ToJsonString());
}
