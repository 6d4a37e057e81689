using Microsoft.Extensions.Time.Testing;
using SecureDra.Kube.Retry;

namespace SecureDra.Kube.Tests;

public sealed class BackoffTests
{
    [Fact]
    public void Doubles_up_to_the_cap_without_jitter_and_resets()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), jitter: 0);

        var delays = Enumerable.Range(0, 6).Select(_ => backoff.Next().TotalMilliseconds).ToArray();

        Assert.Equal([100, 200, 400, 800, 1000, 1000], delays);
        Assert.Equal(6, backoff.Attempts);
        backoff.Reset();
        Assert.Equal(100, backoff.Next().TotalMilliseconds);
    }

    [Fact]
    public void Jitter_adds_at_most_its_fraction_and_never_passes_the_cap()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(450), jitter: 0.5, random: () => 0.999999);

        Assert.InRange(backoff.Next().TotalMilliseconds, 149, 150);
        Assert.InRange(backoff.Next().TotalMilliseconds, 299, 300);
        Assert.Equal(450, backoff.Next().TotalMilliseconds);
        Assert.Equal(450, backoff.Next().TotalMilliseconds);
    }

    [Fact]
    public async Task Delay_runs_on_the_time_provider()
    {
        var time = new FakeTimeProvider();
        var backoff = new Backoff(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1), jitter: 0, timeProvider: time);

        var delay = backoff.DelayAsync(CancellationToken.None);
        Assert.False(delay.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(10));

        await delay.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Backoff(TimeSpan.Zero, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Backoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
    }
}
