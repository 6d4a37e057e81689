using System.Globalization;
using SecureDra.KubeletPlugin.Pipeline;

namespace SecureDra.Cli.Hosting;

/// <summary>
/// Failure injection for the crash and fault tests, which drive the real executable: a crash point
/// (<c>SECUREDRA_CRASH_AT</c>), a short stale-claim interval, the local API server's fault endpoint and the
/// simulated backend's fault files. Compiled in only where <c>SECUREDRA_TEST_HOOKS</c> is defined, which is the
/// test build of these same sources (tests/TestBuild); <c>src/Cli</c>, what <c>dotnet publish</c> and the image
/// ship, has none of them and refuses the variables, so no setting of a production deployment can switch
/// them on (docs/shipped-binary.md).
/// </summary>
internal static class TestHooks
{
    public const string CrashAtVariable = "SECUREDRA_CRASH_AT";
    public const string StaleClaimIntervalVariable = "SECUREDRA_STALE_CLAIM_CHECK_INTERVAL_MS";

    /// <summary>True in the test build only. A property, not a constant, so both builds compile every line (and the analyzers see them).</summary>
#if SECUREDRA_TEST_HOOKS
    public static bool Compiled { get; } = true;
#else
    public static bool Compiled { get; }
#endif

    private static readonly string[] Variables = [CrashAtVariable, StaleClaimIntervalVariable];

    /// <summary>
    /// In the shipped build, the one-line error for a hook variable that is set: a deployment that sets one
    /// expects a behaviour this binary does not have, so it stops rather than ignore it. Null when none is set,
    /// and always in the test build.
    /// </summary>
    public static string? RefusedVariable()
    {
        if (Compiled)
        {
            return null;
        }

        var set = Variables.FirstOrDefault(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v)));
        return set is null ? null : $"{set}: a test hook that only the test build of securedra has; this binary has no failure injection, unset it";
    }

    /// <summary>The test build's hook variables applied to the pipeline options; the options unchanged in the shipped build.</summary>
    /// <exception cref="ArgumentException">A hook variable's value is out of range.</exception>
    public static ClaimPipelineOptions Apply(ClaimPipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Compiled)
        {
            return options;
        }

        if (Environment.GetEnvironmentVariable(CrashAtVariable) is { Length: > 0 } crashAt)
        {
            if (!CrashPoints.All.Contains(crashAt))
            {
                throw new ArgumentException($"{CrashAtVariable}={crashAt} is not a crash point; use one of {string.Join(", ", CrashPoints.All)}");
            }

            options = options with { CrashAt = crashAt };
        }

        if (Environment.GetEnvironmentVariable(StaleClaimIntervalVariable) is { Length: > 0 } staleMs)
        {
            if (!int.TryParse(staleMs, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || ms < 1 || ms > 3_600_000)
            {
                throw new ArgumentException($"{StaleClaimIntervalVariable}={staleMs} must be whole milliseconds from 1 to 3600000");
            }

            options = options with { StaleClaimCheckInterval = TimeSpan.FromMilliseconds(ms) };
        }

        return options;
    }
}
