namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>Called at each <see cref="CrashPoints"/> name; the production implementation kills the process when configured to.</summary>
public interface ICrashInjector
{
    /// <summary>
    /// True when a crash point is configured (only the test build of securedra and the tests configure one). Prepare
    /// then writes a claim's CDI spec and its Prepared commit one after the other, so a crash test can stop between
    /// them; otherwise it overlaps the two writes, which can leave the same states on disk (neither, either, both).
    /// </summary>
    bool Armed { get; }

    void At(string point);
}
