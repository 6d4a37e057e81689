using System.Diagnostics;

namespace SecureDra.Cli.Tests;

/// <summary>Runs the real <c>securedra</c> binary (securedra.dll next to the tests) and collects its output.</summary>
internal static class CliProcess
{
    /// <summary>Variables the commands under test read; cleared so the runner's environment cannot change a verdict.</summary>
    private static readonly string[] Cleared =
        ["KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "NODE_NAME", "POD_NAMESPACE", "POD_NAME", "POD_UID",
         "NVIDIA_VISIBLE_DEVICES", "CANARY_DEVICE", "CANARY_TIMEOUT", "CANARY_MAX_BYTES",
         "GPU_BACKEND", "SIMULATED_GPUS", "SIMULATED_MEMORY", "SIMULATED_VRAM_DIR", "DRIVER_NAME", "MAX_CONFIG_BYTES", "CONFIG_ORIGIN"];

    /// <summary>The shipped build's securedra.dll (src/Cli), copied next to the tests.</summary>
    public static string ProductDll => Path.Combine(AppContext.BaseDirectory, "securedra.dll");

    /// <summary>The test build (tests/TestBuild): the same sources with failure injection, for the tests that inject faults.</summary>
    public static string TestBuildDll
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SecureDra.sln")))
            {
                dir = dir.Parent;
            }

            Assert.NotNull(dir);
            var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            var dll = Path.Combine(dir.FullName, "tests", "TestBuild", "bin", configuration, "net10.0", "securedra.dll");
            Assert.True(File.Exists(dll), $"build tests/TestBuild first: {dll} is missing");
            return dll;
        }
    }

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => RunAsync(null, args);

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IReadOnlyDictionary<string, string?>? environment, params string[] args) =>
        RunDllAsync(ProductDll, environment, args);

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunDllAsync(string dll, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Nothing from the developer's shell may change what is tested.
        foreach (var name in Cleared)
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, await stdout, "timed out after 120 s\n" + await stderr);
        }

        return (process.ExitCode, await stdout, await stderr);
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

    public static string RepoRoot { get; } = FindRoot();

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

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SecureDra.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"SecureDra.sln not found above {AppContext.BaseDirectory}");
    }
}
