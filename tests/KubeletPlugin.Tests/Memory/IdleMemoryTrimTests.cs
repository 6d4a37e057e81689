using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.KubeletPlugin.Memory;
using SecureDra.Observability.Metrics;
using SecureDra.TestKit;

namespace SecureDra.KubeletPlugin.Tests.Memory;

/// <summary>
/// The idle trim runs once per idle period, only after a call and only once <see cref="IdleMemoryTrim.IdleAfter"/>
/// has passed without one and none is in flight, on the injected clock; each trim is counted with the bytes it gave back.
/// With nothing to trim (no call since the last trim, or one in flight) it sets no timer: it sleeps until a call ends.
/// </summary>
public sealed class IdleMemoryTrimTests
{
    private static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Trims_once_the_idle_period_after_a_call_has_passed_and_not_before()
    {
        var (time, activity, metrics, trims, trim) = Create();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await trim.StartAsync(deadline.Token);

        // No call yet: no timer at all (it sleeps until a call ends), and no trim however long the plugin waits.
        time.Advance(IdleAfter * 10);
        Assert.False(time.Timers.Reader.TryRead(out _), "set a timer although no call ever came");
        Assert.False(trims.Reader.TryRead(out _), "trimmed although no call ever came");

        // A call ends: the trim waits IdleAfter from its end. Another ends 4 s into that wait: at the look it has
        // been idle 6 s, so the trim waits 4 s more.
        activity.Begin();
        activity.End();
        Assert.Equal(IdleAfter, await time.Timers.Reader.ReadAsync(deadline.Token));
        time.Advance(TimeSpan.FromSeconds(4));
        activity.Begin();
        activity.End();
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(TimeSpan.FromSeconds(4), await time.Timers.Reader.ReadAsync(deadline.Token));
        Assert.False(trims.Reader.TryRead(out _), "trimmed 6 s after a call with --trim-memory-when-idle 10s");
        time.Advance(TimeSpan.FromSeconds(4) - TimeSpan.FromTicks(1));
        Assert.False(trims.Reader.TryRead(out _), "trimmed before the idle period was over");
        time.Advance(TimeSpan.FromTicks(1));
        await trims.Reader.ReadAsync(deadline.Token);

        // Once per idle period: no further call, no further trim, and no timer either.
        time.Advance(IdleAfter * 10);
        Assert.False(trims.Reader.TryRead(out _), "trimmed again without a call in between");
        Assert.False(time.Timers.Reader.TryRead(out _), "set a timer after its trim without a call in between");
        await UntilCountedAsync(metrics, trims: 1);

        // The next burst earns the next trim.
        activity.Begin();
        activity.End();
        Assert.Equal(IdleAfter, await time.Timers.Reader.ReadAsync(deadline.Token));
        time.Advance(IdleAfter);
        await trims.Reader.ReadAsync(deadline.Token);
        await UntilCountedAsync(metrics, trims: 2);
        await trim.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Never_trims_while_a_call_is_in_flight_however_long_it_runs()
    {
        var (time, activity, metrics, trims, trim) = Create();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        activity.Begin();
        activity.End();
        activity.Begin(); // a long Unprepare (scrubs) still running
        await trim.StartAsync(deadline.Token);
        time.Advance(IdleAfter * 5);
        Assert.False(time.Timers.Reader.TryRead(out _), "set a timer while a call was in flight");
        Assert.False(trims.Reader.TryRead(out _), "trimmed while a call was in flight");

        // It ends: the idle period counts from its end, not from the call before it.
        activity.End();
        Assert.Equal(IdleAfter, await time.Timers.Reader.ReadAsync(deadline.Token));
        time.Advance(IdleAfter - TimeSpan.FromTicks(1));
        Assert.False(trims.Reader.TryRead(out _), "trimmed before IdleAfter had passed since the last call ended");
        time.Advance(TimeSpan.FromTicks(1));
        await trims.Reader.ReadAsync(deadline.Token);
        await UntilCountedAsync(metrics, trims: 1);
        await trim.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Stopping_ends_the_wait_without_a_trim()
    {
        var (_, activity, metrics, trims, trim) = Create();
        activity.Begin();
        activity.End();
        await trim.StartAsync(CancellationToken.None);
        await trim.StopAsync(CancellationToken.None);
        Assert.True(trim.ExecuteTask!.IsCompleted);
        Assert.False(trim.ExecuteTask.IsFaulted);
        Assert.False(trims.Reader.TryRead(out _));
        Assert.Equal(0, metrics.Counter("securedra_memory_idle_trims_total", "").Value());
    }

    [Fact]
    public void The_product_collection_is_a_full_collection_and_reports_heap_and_committed_bytes()
    {
        var fullBefore = GC.CollectionCount(2);
        var result = GcTrim.CollectAggressively();
        Assert.True(GC.CollectionCount(2) > fullBefore, "no gen2 collection ran");
        Assert.True(result.HeapBefore > 0 && result.HeapAfter > 0 && result.CommittedBefore > 0 && result.CommittedAfter > 0, result.ToString());
    }

    [Fact]
    public void A_zero_or_negative_idle_period_is_refused()
    {
        var time = new TimerSignallingTime();
        Assert.Throws<ArgumentOutOfRangeException>(() => new IdleMemoryTrim(TimeSpan.Zero, new CallActivity(time), new MetricsRegistry(), time, NullLogger<IdleMemoryTrim>.Instance, GcTrim.CollectAggressively));
    }

    /// <summary>
    /// A trim is counted (then its reclaimed bytes) right after the collection returns, on the service's thread, while
    /// the test sees the collection (the channel) first: it waits for both counts to reach this trim, then checks that
    /// they are exactly this many trims (6 MiB of committed memory each in <see cref="Create"/>), never more.
    /// </summary>
    private static async Task UntilCountedAsync(MetricsRegistry metrics, int trims)
    {
        double Trims() => metrics.Counter("securedra_memory_idle_trims_total", "").Value();
        double Reclaimed() => metrics.Counter("securedra_memory_idle_trim_reclaimed_bytes_total", "").Value();
        await Poll.UntilAsync(() => Trims() >= trims && Reclaimed() >= trims * (6 << 20), $"trim {trims} counted", context: () => $"trims {Trims()}, reclaimed {Reclaimed()}");
        Assert.Equal(trims, Trims());
        Assert.Equal(trims * (6 << 20), Reclaimed());
    }

    private static (TimerSignallingTime Time, CallActivity Activity, MetricsRegistry Metrics, Channel<bool> Trims, IdleMemoryTrim Trim) Create()
    {
        var time = new TimerSignallingTime();
        var activity = new CallActivity(time);
        var metrics = new MetricsRegistry();
        var trims = Channel.CreateUnbounded<bool>();
        var trim = new IdleMemoryTrim(IdleAfter, activity, metrics, time, NullLogger<IdleMemoryTrim>.Instance, () =>
        {
            trims.Writer.TryWrite(true);
            return new GcTrimResult(8 << 20, 5 << 20, 14 << 20, 8 << 20);
        });
        return (time, activity, metrics, trims, trim);
    }
}
