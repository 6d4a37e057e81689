namespace SecureDra.Cli.Tests;

/// <summary><c>securedra completion bash|zsh|fish</c>: scripts generated from the command tree, valid for their shell.</summary>
public sealed class CompletionCommandTests : IDisposable
{
    private static readonly string[] Subcommands =
        ["audit", "canary", "completion", "controller", "demo", "kubelet-plugin", "local-apiserver", "proxy", "scrub", "validate"];

    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-completion-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<string> ScriptAsync(string shell)
    {
        var (code, stdout, stderr) = await CliProcess.RunAsync("completion", shell);
        Assert.True(code == 0, $"completion {shell}: exit {code}: {stderr}");
        var path = Path.Combine(_dir, shell);
        await File.WriteAllTextAsync(path, stdout);
        return path;
    }

    [Fact]
    public async Task The_bash_script_is_valid_bash_and_completes_subcommands_and_their_flags()
    {
        var script = await ScriptAsync("bash");
        var syntax = await CliProcess.BashAsync($"bash -n '{script}'");
        Assert.True(syntax.ExitCode == 0, syntax.Stderr);

        Assert.Equal(["canary"], await CompleteAsync(script, "securedra", "ca"));
        Assert.Equal(Subcommands.Concat(["--help", "--version"]), await CompleteAsync(script, "securedra", ""));
        Assert.Equal(["--node-name"], await CompleteAsync(script, "securedra", "kubelet-plugin", "--node-n"));
        Assert.Equal(["--max-bytes"], await CompleteAsync(script, "securedra", "canary", "--gpu-backend", "simulated", "--max"));
        Assert.Contains("--output", await CompleteAsync(script, "securedra", "validate", "--"));

        // After a flag that takes a value, no flag is offered (the shell falls back to file names).
        Assert.Empty(await CompleteAsync(script, "securedra", "canary", "--device", ""));
    }

    [Fact]
    public async Task The_zsh_and_fish_scripts_cover_every_subcommand_and_quote_every_description()
    {
        var zsh = await File.ReadAllLinesAsync(await ScriptAsync("zsh"));
        Assert.Equal("#compdef securedra", zsh[0]);
        var fish = await File.ReadAllLinesAsync(await ScriptAsync("fish"));
        foreach (var sub in Subcommands)
        {
            Assert.Contains(zsh, l => l.TrimStart().StartsWith($"'{sub}:", StringComparison.Ordinal));
            Assert.Contains(zsh, l => l.Trim() == $"{sub})");
            Assert.Contains(fish, l => l.Contains($" -a {sub} -d '", StringComparison.Ordinal));
        }

        Assert.Contains(fish, l => l.Contains("__fish_seen_subcommand_from canary' -l timeout", StringComparison.Ordinal) && l.EndsWith(" -r -F", StringComparison.Ordinal));
        Assert.Contains(fish, l => l.Contains("__fish_seen_subcommand_from demo' -l keep-running", StringComparison.Ordinal) && !l.Contains(" -r", StringComparison.Ordinal));

        // Descriptions come from help text: no quote may end a shell string early.
        Assert.All(zsh.Concat(fish), l => Assert.True(l.Count(c => c == '\'') % 2 == 0, $"unbalanced quotes: {l}"));
    }

    [Theory]
    [InlineData("tcsh")]
    [InlineData("")]
    public async Task An_unknown_shell_is_a_one_line_usage_error(string shell)
    {
        var (code, stdout, stderr) = await CliProcess.RunAsync("completion", shell);
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.StartsWith("securedra completion: SHELL: must be bash, zsh or fish", stderr.Trim(), StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    /// <summary>Loads the script in a fresh bash, fills COMP_WORDS as bash would, and returns COMPREPLY.</summary>
    private static async Task<IReadOnlyList<string>> CompleteAsync(string script, params string[] words)
    {
        var quoted = string.Join(' ', words.Select(w => $"'{w}'"));
        var (code, stdout, stderr) = await CliProcess.BashAsync(
            $"source '{script}'; COMP_WORDS=({quoted}); COMP_CWORD={words.Length - 1}; _securedra; printf '%s\\n' \"${{COMPREPLY[@]}}\"");
        Assert.True(code == 0, stderr);
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
