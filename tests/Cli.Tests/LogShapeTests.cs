using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace SecureDra.Cli.Tests;

/// <summary>
/// One log shape for every subcommand, through the real executable: each stderr line is one JSON object with
/// <c>@t</c> and the rendered <c>@m</c> (never the template-only <c>@mt</c> that controller and scrub used to write),
/// framework start-up lines filtered, and <c>--log-level</c> / <c>-v</c> / <c>--logging-format</c> honoured.
/// </summary>
public sealed class LogShapeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-log-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Scrub_writes_rendered_json_lines_only()
    {
        var (code, _, stderr) = await Scrub();

        Assert.True(code == 0, stderr);
        AssertOneShape(stderr, minimumLines: 1);
    }

    [Fact]
    public async Task Canary_writes_rendered_json_lines_only()
    {
        var (code, _, stderr) = await CliProcess.RunAsync(
            "canary", "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "2Mi", "--simulated-vram-dir", _dir, "--device", "gpu-0");

        Assert.True(code == 0, stderr);
        var lines = AssertOneShape(stderr, minimumLines: 1);
        Assert.Contains(lines, l => (string?)l["EventId"]?["Name"] is { } name && name.StartsWith("VramCanary", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Controller_writes_the_same_shape_without_framework_start_up_lines()
    {
        var (cert, key) = WriteSelfSignedCertificate();
        var lines = await ControllerLinesAsync(
            new Dictionary<string, string?> { ["LEADER_ELECTION_ID"] = "legacy-lease" },
            "--tls-cert-file", cert, "--tls-private-key-file", key, "--audit-interval", "0", "--leader-election", "false",
            "--webhook-listen", "127.0.0.1:1", "--http-endpoint", "127.0.0.1:2");

        var parsed = AssertOneShape(string.Join('\n', lines), minimumLines: 1);
        Assert.Contains(parsed, l => (int?)l["EventId"]?["Id"] == 6500 && (string?)l["Legacy"] == "LEADER_ELECTION_ID");
        Assert.DoesNotContain(parsed, l => ((string?)l["SourceContext"] ?? "").StartsWith("Microsoft.Hosting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_demo_log_is_the_same_json_without_a_line_per_http_request()
    {
        var (code, stdout, stderr) = await CliProcess.RunAsync("demo", "--simulated-gpus", "2", "--simulated-memory", "1Mi", "--work-dir", _dir);

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var log = await File.ReadAllTextAsync(Path.Combine(_dir, "securedra.log"));
        var lines = AssertOneShape(log, minimumLines: 5);
        Assert.DoesNotContain(lines, l => ((string?)l["SourceContext"] ?? "").StartsWith("Microsoft.", StringComparison.Ordinal));
        Assert.DoesNotContain("Request starting", log, StringComparison.Ordinal);
        Assert.Contains(lines, l => l["EventId"]?["Id"] is not null);

        // The start-up line naming the resource.k8s.io version is logged once.
        Assert.Single(lines, l => (int?)l["EventId"]?["Id"] == 1111);

        // Each scrub is logged once, by the GPU layer (VramScrubbed 3001), with the claim it ran for as a property;
        // the plugin's second "VRAM scrubbed" event (4200) is gone.
        Assert.DoesNotContain(lines, l => (int?)l["EventId"]?["Id"] == 4200);
        Assert.Contains(lines, l => (int?)l["EventId"]?["Id"] == 3001 && ((string?)l["ClaimUid"] ?? "").Length > 0);

        // Nor does the plugin add one for a failure (4201 is retired): every scrub event says why it ran, and the
        // plugin's scrubs are never the CLI's.
        Assert.DoesNotContain(lines, l => (int?)l["EventId"]?["Id"] == 4201);
        var scrubs = lines.Where(l => (int?)l["EventId"]?["Id"] is 3001 or 3002 or 3003).ToList();
        Assert.NotEmpty(scrubs);
        Assert.All(scrubs, l => Assert.Contains((string?)l["Trigger"], new[] { "release", "retry", "startup", "health" }));
        Assert.Contains(scrubs, l => (string?)l["Trigger"] == "release");
    }

    [Fact]
    public async Task Log_level_error_silences_information_and_v_overrides_it()
    {
        var quiet = await Scrub("--log-level", "error");
        Assert.True(quiet.ExitCode == 0, quiet.Stderr);
        Assert.Empty(quiet.Stderr.Trim());

        var loud = await CliProcess.RunAsync(
            new Dictionary<string, string?> { ["SECUREDRA_LOG_LEVEL"] = "error" },
            ["scrub", "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "2Mi", "--simulated-vram-dir", _dir, "--device", "all", "-v=0"]);
        Assert.True(loud.ExitCode == 0, loud.Stderr);
        AssertOneShape(loud.Stderr, minimumLines: 1);
    }

    [Theory]
    [InlineData("--log-level", "chatty", "--log-level")]
    [InlineData("-v=x", null, "-v")]
    [InlineData("--log-format", "yaml", "--log-format")]
    public async Task A_bad_logging_flag_is_one_usage_line_naming_it(string flag, string? value, string named)
    {
        string[] extra = value is null ? [flag] : [flag, value];
        var (code, _, stderr) = await Scrub(extra);

        Assert.Equal(2, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(named, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logging_format_text_is_the_kubernetes_spelling_of_log_format()
    {
        var (code, _, stderr) = await Scrub("--logging-format", "text");

        Assert.True(code == 0, stderr);
        Assert.NotEmpty(stderr.Trim());
        Assert.All(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.False(line.TrimStart().StartsWith('{'), line));
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> Scrub(params string[] extra) =>
        CliProcess.RunAsync(["scrub", "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "2Mi", "--simulated-vram-dir", _dir, "--device", "all", .. extra]);

    private static List<JsonObject> AssertOneShape(string stderr, int minimumLines)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= minimumLines, $"expected log lines, got:\n{stderr}");
        var parsed = new List<JsonObject>();
        foreach (var line in lines)
        {
            var node = JsonNode.Parse(line) as JsonObject;
            Assert.True(node is not null, $"not a JSON object: {line}");
            Assert.True(node!["@t"] is not null && node["@m"] is not null, $"no @t/@m: {line}");
            Assert.True(node["@mt"] is null, $"template-only shape: {line}");
            parsed.Add(node);
        }

        return parsed;
    }

    /// <summary>Starts the controller, collects stderr lines until one is the deprecation warning (or 60 s), then stops it.</summary>
    private static async Task<List<string>> ControllerLinesAsync(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "securedra.dll"));
        start.ArgumentList.Add("controller");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in new[] { "KUBECONFIG", "KUBERNETES_SERVICE_HOST", "POD_NAMESPACE", "POD_NAME", "LEADER_ELECTION_ID", "SECUREDRA_LEADER_ELECTION_ID" })
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        _ = process.StandardOutput.ReadToEndAsync();
        var lines = new List<string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await process.StandardError.ReadLineAsync(deadline.Token) is { } line)
            {
                lines.Add(line);
                if (line.Contains("\"Id\":6500", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
        }

        return lines;
    }

    private (string Cert, string Key) WriteSelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=securedra-log-test", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var certPath = Path.Combine(_dir, "tls.crt");
        var keyPath = Path.Combine(_dir, "tls.key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }
}
