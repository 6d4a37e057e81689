using SecureDra.KubeletPlugin.Pipeline;

namespace SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

/// <summary>Fails at a crash point with an exception instead of killing the test host.</summary>
public sealed class ThrowingCrashInjector : ICrashInjector
{
    public string? FailAt { get; set; }

    /// <summary>Runs once at the crash point before the exception (the lifecycle model snapshots the disk here: the process "dies" at this instant).</summary>
    public Action<string>? OnFail { get; set; }

    public bool Armed => FailAt is not null;

    public void At(string point)
    {
        if (point == FailAt)
        {
            OnFail?.Invoke(point);
            throw new InvalidOperationException("injected failure at " + point);
        }
    }
}
