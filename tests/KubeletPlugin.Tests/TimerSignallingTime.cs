using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace SecureDra.KubeletPlugin.Tests;

/// <summary>
/// A fake clock that reports every one-shot timer created on it (Task.Delay creates one), so a test advances time only
/// once the code under test is waiting on it: a barrier instead of a sleep.
/// </summary>
internal sealed class TimerSignallingTime : FakeTimeProvider
{
    public Channel<TimeSpan> Timers { get; } = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (period == Timeout.InfiniteTimeSpan && dueTime > TimeSpan.Zero)
        {
            Timers.Writer.TryWrite(dueTime);
        }

        return timer;
    }
}
