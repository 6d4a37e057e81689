using System.Diagnostics;

namespace SecureDra.Cli.Tests;

/// <summary>Runs the real <c>securedra</c> binary (securedra.dll next to the tests) and collects its output; bash and kubectl for the shell-facing tests.</summary>
internal static class CliProcess
{
    /// <summary>The shipped build's securedra.dll (src/Cli).</summary>
    public static string ProductDll => RepoPaths.CliDll;

    /// <summary>The test build (tests/TestBuild): the same sources with failure injection, for the tests that inject faults.</summary>
    public static string TestBuildDll => RepoPaths.TestBuildDll;

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => RunAsync(null, args);

    /// <summary>Runs the real (shipped) <c>securedra</c> through the test kit (the CLI's variables cleared, then <paramref name="environment"/> set).</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IReadOnlyDictionary<string, string?>? environment, params string[] args) =>
        RunDllAsync(ProductDll, environment, args);

    /// <summary>Runs <paramref name="dll"/> (the shipped or the test build) through the test kit.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunDllAsync(string dll, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var result = await SecuredraProcess.RunAsync(args, environment?.ToDictionary(p => p.Key, p => p.Value ?? "", StringComparer.Ordinal), dll: dll);
        return (result.ExitCode, result.Stdout, result.Stderr);
    }

    /// <summary>Runs bash with <paramref name="script"/> as its program (not through a shell string).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> BashAsync(string script, params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    public static string RepoRoot => RepoPaths.Root;

    public static string Kubectl
    {
        get
        {
            var tools = Environment.GetEnvironmentVariable("SECUREDRA_TOOLS_DIR") is { Length: > 0 } dir ? dir : Path.Combine(RepoRoot, ".tools");
            var local = Path.Combine(tools, "bin", "kubectl");
            return File.Exists(local) ? local : "kubectl";
        }
    }

    /// <summary>A .NET stack frame ("   at Namespace.Type.Method(...)"), also inside a JSON log line ("\n   at ").</summary>
    public static bool HasStackTrace(string text) =>
        text.Split('\n').Any(line => line.TrimStart().StartsWith("at ", StringComparison.Ordinal) && line.Contains('(', StringComparison.Ordinal))
        || text.Contains("\\n   at ", StringComparison.Ordinal)
        || text.Contains("Unhandled exception", StringComparison.Ordinal)
        || text.Contains("--- End of", StringComparison.Ordinal);
}
