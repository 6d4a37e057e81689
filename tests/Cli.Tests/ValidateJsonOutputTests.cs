using System.Text.Json.Nodes;

namespace SecureDra.Cli.Tests;

/// <summary><c>validate --output json</c>: one JSON document on stdout, the same verdicts and exit codes as text.</summary>
public sealed class ValidateJsonOutputTests : IDisposable
{
    private const string Claim = """
        apiVersion: resource.k8s.io/v1
        kind: ResourceClaim
        metadata: {name: c, namespace: tenant-a}
        spec:
          devices:
            requests:
              - name: gpu
                exactly: {deviceClassName: securedra-gpu-exclusive}
            config:
              - requests: [gpu]
                opaque:
                  driver: gpu.nvidia.com
                  parameters: {apiVersion: resource.securedra.io/v1alpha1, kind: GpuConfig, resetPolicy: None}
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-validate-json-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task Violations_are_one_json_document_with_file_field_path_and_message_and_exit_1()
    {
        var bad = Write("bad.yaml", Claim);
        var good = Write("good.yaml", Claim.Replace("resetPolicy: None", "resetPolicy: ZeroVRAMOnRelease", StringComparison.Ordinal));
        var (code, stdout, _) = await CliProcess.RunAsync("validate", "--output", "json", bad, good);

        Assert.Equal(1, code);
        var doc = JsonNode.Parse(stdout)!;
        Assert.False(doc["valid"]!.GetValue<bool>());
        Assert.Equal(2, doc["files"]!.GetValue<int>());
        Assert.Equal(1, doc["violations"]!.GetValue<int>());
        var results = doc["results"]!.AsArray();
        Assert.Equal([bad, good], results.Select(r => r!["file"]!.GetValue<string>()));
        var violation = Assert.Single(results[0]!["violations"]!.AsArray())!;
        Assert.EndsWith("opaque.parameters.resetPolicy", violation["path"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("not allowed in a claim", violation["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(results[1]!["violations"]!.AsArray());
        Assert.Equal(1, results[1]!["checked"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_clean_run_is_valid_json_and_exit_0_and_text_stays_the_default()
    {
        var good = Write("good.yaml", Claim.Replace("resetPolicy: None", "resetPolicy: ZeroVRAMOnRelease", StringComparison.Ordinal));
        var (code, stdout, _) = await CliProcess.RunAsync("validate", "--output", "json", good);
        Assert.Equal(0, code);
        Assert.True(JsonNode.Parse(stdout)!["valid"]!.GetValue<bool>());

        var bad = Write("bad.yaml", Claim);
        var text = await CliProcess.RunAsync("validate", bad);
        Assert.Equal(1, text.ExitCode);
        Assert.StartsWith($"{bad}: ", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_output_format_is_a_usage_error()
    {
        var good = Write("good.yaml", Claim);
        var (code, stdout, stderr) = await CliProcess.RunAsync("validate", "--output", "yaml", good);
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Equal("securedra validate: --output: \"yaml\" is not text or json", stderr.Trim());
    }
}
