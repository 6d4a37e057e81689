using SecureDra.KubeletPlugin.Pipeline;

namespace SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

/// <summary>Fails at a crash point with an exception instead of killing the test host.</summary>
public sealed class ThrowingCrashInjector : ICrashInjector
{
    public string? FailAt { get; set; }

    public void At(string point)
    {
        if (point == FailAt)
        {
            throw new InvalidOperationException("injected failure at " + point);
        }
    }
}
