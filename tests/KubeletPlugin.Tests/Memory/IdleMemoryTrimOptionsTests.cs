using SecureDra.KubeletPlugin.Hosting;

namespace SecureDra.KubeletPlugin.Tests.Memory;

/// <summary><see cref="KubeletPluginOptions.TrimMemoryWhenIdle"/> is checked at start like every other option: 0 (off) to 1 h.</summary>
public sealed class IdleMemoryTrimOptionsTests
{
    [Theory]
    [InlineData(-1)]
    [InlineData(3601)]
    public void An_idle_period_outside_zero_to_an_hour_is_refused_with_the_flags_name(int seconds)
    {
        using var dir = TempDir.Create();
        var options = TestPlugin.DefaultOptions(dir) with { TrimMemoryWhenIdle = TimeSpan.FromSeconds(seconds) };
        var error = Assert.Single(KubeletPluginOptionsValidator.Validate(options));
        Assert.StartsWith("--trim-memory-when-idle: ", error, StringComparison.Ordinal);
        Assert.Contains("01:00:00", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3600)]
    public void Zero_and_up_to_an_hour_are_accepted(int seconds)
    {
        using var dir = TempDir.Create();
        var options = TestPlugin.DefaultOptions(dir) with { TrimMemoryWhenIdle = TimeSpan.FromSeconds(seconds) };
        Assert.Empty(KubeletPluginOptionsValidator.Validate(options));
    }
}
