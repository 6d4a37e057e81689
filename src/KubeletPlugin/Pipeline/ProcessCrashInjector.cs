using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>Kills the process hard at the configured crash point: no finally blocks, no flush, like kill -9.</summary>
public sealed partial class ProcessCrashInjector(ClaimPipelineOptions options, ILogger<ProcessCrashInjector> logger) : ICrashInjector
{
    public bool Armed => options.CrashAt is { Length: > 0 };

    public void At(string point)
    {
        if (options.CrashAt is { Length: > 0 } target && string.Equals(target, point, StringComparison.Ordinal))
        {
            LogCrashing(logger, point);
            // SIGKILL to ourselves: nothing after this point runs, exactly as with kill -9.
            using var self = System.Diagnostics.Process.GetCurrentProcess();
            self.Kill();
            Environment.FailFast($"crash point {point}: crash injected for testing");
        }
    }
}
