using System.Diagnostics;

namespace SecureDra.Cli.Tests;

/// <summary>Runs the real securedra binary (built next to the tests) and collects its output.</summary>
internal static class CliProcess
{
    /// <summary>Variables the commands under test read; cleared so the runner's environment cannot change a verdict.</summary>
    private static readonly string[] Cleared =
        ["NVIDIA_VISIBLE_DEVICES", "CANARY_DEVICE", "CANARY_TIMEOUT", "CANARY_MAX_BYTES", "POD_NAME", "POD_NAMESPACE", "POD_UID", "KUBECONFIG",
         "GPU_BACKEND", "SIMULATED_GPUS", "SIMULATED_MEMORY", "SIMULATED_VRAM_DIR", "DRIVER_NAME", "MAX_CONFIG_BYTES", "CONFIG_ORIGIN"];

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => RunAsync(null, args);

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "securedra.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in Cleared)
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
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
}
