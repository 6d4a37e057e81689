using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SecureDra.Cli.Tests;

/// <summary>
/// One environment-variable scheme for every flag of every subcommand (<c>--foo-bar</c> ↔ <c>SECUREDRA_FOO_BAR</c>,
/// except the names other Kubernetes components use), old names still read with a warning, and one help style
/// that states each default once. Read from the real executable's help, so a flag added anywhere is checked.
/// </summary>
public sealed partial class EnvironmentSchemeTests : IDisposable
{
    /// <summary>The names kept because the upstream driver, the kubelet or the downward API use them (docs/operations.md).</summary>
    private static readonly HashSet<string> Upstream =
        ["NODE_NAME", "KUBECONFIG", "CDI_ROOT", "KUBELET_REGISTRAR_DIRECTORY_PATH", "KUBELET_PLUGINS_DIRECTORY_PATH", "POD_NAME", "POD_NAMESPACE", "POD_UID"];

    private static readonly string[] Subcommands = ["kubelet-plugin", "controller", "local-apiserver", "demo", "validate", "audit", "scrub", "canary", "mig-manager"];

    private readonly string _vram = Directory.CreateTempSubdirectory("securedra-env-test-").FullName;

    public void Dispose() => Directory.Delete(_vram, recursive: true);

    [Fact]
    public async Task Every_flag_with_a_variable_follows_the_scheme_or_keeps_a_documented_upstream_name()
    {
        var operations = await File.ReadAllTextAsync(Path.Combine(CliProcess.RepoRoot, "docs", "operations.md"));
        var seen = 0;
        foreach (var subcommand in Subcommands)
        {
            var (code, stdout, stderr) = await CliProcess.RunAsync(subcommand, "--help");
            Assert.True(code == 0, $"{subcommand} --help: exit {code}\n{stderr}");
            foreach (Match match in FlagWithVariable().Matches(stdout))
            {
                var (flag, variable) = (match.Groups["flag"].Value, match.Groups["env"].Value);
                seen++;
                var scheme = "SECUREDRA_" + flag.TrimStart('-').Replace('-', '_').ToUpperInvariant();
                Assert.True(variable == scheme || Upstream.Contains(variable), $"securedra {subcommand} {flag} reads {variable}, not {scheme}");
                if (variable != scheme)
                {
                    Assert.Contains($"`{variable}`", operations, StringComparison.Ordinal);
                }
            }
        }

        Assert.True(seen > 60, $"only {seen} flags with a variable found in the help: did its format change?");
    }

    [Fact]
    public async Task Help_states_each_default_at_most_once_and_every_variable_once()
    {
        foreach (var subcommand in Subcommands)
        {
            var (_, stdout, _) = await CliProcess.RunAsync(subcommand, "--help");
            foreach (var line in stdout.Split('\n').Where(l => l.TrimStart().StartsWith('-')))
            {
                Assert.True(DefaultWord().Matches(line).Count <= 1, $"securedra {subcommand}: the default is stated twice: {line.Trim()}");
                Assert.True(Regex.Matches(line, @"\benv\b").Count <= 1, $"securedra {subcommand}: two variables named: {line.Trim()}");
            }
        }
    }

    [Fact]
    public async Task A_legacy_variable_still_works_and_is_warned_about_as_a_structured_event()
    {
        var (code, stdout, stderr) = await Scrub(new Dictionary<string, string?> { ["SCRUB_OUTPUT"] = "json" });

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.NotNull(JsonNode.Parse(stdout)!["reports"]);
        var warning = LogLines(stderr).Single(l => (int?)l["EventId"]?["Id"] == 6500);
        Assert.Equal("Warning", (string?)warning["@l"]);
        Assert.Equal("SCRUB_OUTPUT", (string?)warning["Legacy"]);
        Assert.Equal("SECUREDRA_OUTPUT", (string?)warning["Replacement"]);
    }

    [Fact]
    public async Task The_scheme_name_wins_over_the_legacy_one_and_the_flag_over_both_without_a_warning()
    {
        var both = await Scrub(new Dictionary<string, string?> { ["SECUREDRA_OUTPUT"] = "json", ["SCRUB_OUTPUT"] = "nonsense" });
        Assert.True(both.ExitCode == 0, $"exit {both.ExitCode}\n{both.Stderr}");
        Assert.NotNull(JsonNode.Parse(both.Stdout)!["reports"]);
        Assert.DoesNotContain(LogLines(both.Stderr), l => (int?)l["EventId"]?["Id"] == 6500);

        var flag = await Scrub(new Dictionary<string, string?> { ["SECUREDRA_OUTPUT"] = "nonsense", ["SCRUB_OUTPUT"] = "nonsense" }, "--output", "table");
        Assert.True(flag.ExitCode == 0, $"exit {flag.ExitCode}\n{flag.Stderr}");
        Assert.Contains("COVERAGE", flag.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(LogLines(flag.Stderr), l => (int?)l["EventId"]?["Id"] == 6500);
    }

    [Fact]
    public async Task A_bad_value_from_the_new_name_is_a_usage_error_naming_the_flag()
    {
        var (code, _, stderr) = await Scrub(new Dictionary<string, string?> { ["SECUREDRA_OUTPUT"] = "yaml" });
        Assert.Equal(2, code);
        Assert.Contains("--output", stderr, StringComparison.Ordinal);
        Assert.False(CliProcess.HasStackTrace(stderr), stderr);
    }

    [Fact]
    public async Task A_boolean_variable_that_is_neither_true_nor_false_is_a_usage_error_not_a_silent_false()
    {
        var (code, _, stderr) = await CliProcess.RunAsync(
            new Dictionary<string, string?> { ["SECUREDRA_REQUIRE_NODE_HARDENING"] = "maybe" }, "kubelet-plugin", "--node-name", "n1");

        Assert.Equal(2, code);
        Assert.Equal("securedra kubelet-plugin: SECUREDRA_REQUIRE_NODE_HARDENING: must be true or false, got \"maybe\"", stderr.Trim());
    }

    [Fact]
    public async Task Commands_without_a_log_warn_about_a_legacy_variable_in_one_plain_line()
    {
        var file = Path.Combine(_vram, "claim.yaml");
        await File.WriteAllTextAsync(file, "apiVersion: resource.k8s.io/v1\nkind: ResourceClaim\nmetadata: {name: c}\nspec: {}\n");

        var (code, _, stderr) = await CliProcess.RunAsync(new Dictionary<string, string?> { ["CONFIG_ORIGIN"] = "claim" }, "validate", file);

        Assert.True(code is 0 or 1, $"exit {code}\n{stderr}");
        Assert.Contains("securedra validate: environment variable CONFIG_ORIGIN is deprecated; use SECUREDRA_CONFIG_ORIGIN", stderr, StringComparison.Ordinal);
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> Scrub(IReadOnlyDictionary<string, string?> environment, params string[] extra) =>
        CliProcess.RunAsync(environment, ["scrub", "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "2Mi", "--simulated-vram-dir", _vram, "--device", "all", .. extra]);

    internal static List<JsonObject> LogLines(string stderr) =>
        [.. stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonNode.Parse(line)!.AsObject())];

    [GeneratedRegex(@"^\s+(?:-\w,\s+)?(?<flag>--[a-z0-9-]+)(?:,\s+--[a-z0-9-]+)?\s.*?\(env (?<env>[A-Z0-9_]+)\)", RegexOptions.Multiline)]
    private static partial Regex FlagWithVariable();

    [GeneratedRegex(@"\bdefault\b", RegexOptions.IgnoreCase)]
    private static partial Regex DefaultWord();
}
