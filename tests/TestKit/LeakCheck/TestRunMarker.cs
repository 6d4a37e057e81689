using System.Globalization;

namespace SecureDra.TestKit.LeakCheck;

/// <summary>
/// A variable every process a test run starts carries (set in the test host's own environment, which children
/// inherit, and again by <see cref="SecuredraProcess.StartInfo"/>): after the last test the leak check finds, through
/// /proc, every process of this run still alive, also one orphaned to init or started by a child (a scrub worker).
/// The value is new per test host, so a leftover of an earlier run or of a parallel helper's run never counts here.
/// </summary>
public static class TestRunMarker
{
    /// <summary>Not SECUREDRA_*: SecuredraProcess clears those so the shell cannot change a verdict.</summary>
    public const string Name = "SDRA_TEST_RUN";

    public static readonly string Value = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>Marks this process's environment so every child started from now on inherits the marker.</summary>
    public static void MarkThisProcess() => Environment.SetEnvironmentVariable(Name, Value);
}
