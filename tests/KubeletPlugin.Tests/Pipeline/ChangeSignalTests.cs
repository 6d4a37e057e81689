using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Observability.Changes;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

public sealed class ChangeSignalTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Next_completes_at_the_next_signal_and_not_before()
    {
        var signal = new ChangeSignal();
        var next = signal.Next;
        Assert.False(next.IsCompleted);
        Assert.Same(next, signal.Next); // no signal yet: every waiter holds the same task

        signal.Signal();

        await next.WaitAsync(Deadline);
        Assert.False(signal.Next.IsCompleted); // taken after the signal: waits for the one after
    }

    [Fact]
    public async Task A_signal_between_the_check_and_the_wait_is_not_lost()
    {
        var signal = new ChangeSignal();
        var changed = false;
        var checks = 0;

        // The first check sees the old state, and the change (with its signal) lands right after it, before the wait:
        // the window a lost wake-up lives in. The wait must end at once with the second check.
        var wait = signal.WaitUntilAsync(() =>
        {
            checks++;
            var seen = changed;
            if (checks == 1)
            {
                changed = true;
                signal.Signal();
            }

            return seen;
        }, CancellationToken.None);

        await wait.WaitAsync(Deadline);
        Assert.Equal(2, checks);
    }

    [Fact]
    public async Task WaitUntil_returns_without_waiting_when_the_condition_already_holds()
    {
        var signal = new ChangeSignal();
        await signal.WaitUntilAsync(() => true, CancellationToken.None).WaitAsync(Deadline);
    }

    [Fact]
    public async Task WaitUntil_keeps_waiting_through_signals_that_do_not_satisfy_it()
    {
        var signal = new ChangeSignal();
        var value = 0;
        var wait = signal.WaitUntilAsync(() => Volatile.Read(ref value) >= 3, CancellationToken.None);

        for (var i = 1; i <= 2; i++)
        {
            Volatile.Write(ref value, i);
            signal.Signal();
            await Task.Yield();
            Assert.False(wait.IsCompleted);
        }

        Volatile.Write(ref value, 3);
        signal.Signal();
        await wait.WaitAsync(Deadline);
    }

    [Fact]
    public async Task Concurrent_signals_wake_every_waiter_that_took_Next_before_them()
    {
        var signal = new ChangeSignal();
        var version = 0L;
        const int Signallers = 8;
        const int Rounds = 200;

        // Each waiter waits for a version it has not seen, taking Next before reading it: whatever the interleaving
        // of the signallers, every waiter must finish.
        var waiters = Enumerable.Range(0, 32).Select(i => Task.Run(async () =>
        {
            for (var target = 1L + (i % 5); target <= Signallers * Rounds; target += 37)
            {
                var goal = target;
                await signal.WaitUntilAsync(() => Interlocked.Read(ref version) >= goal, CancellationToken.None);
            }
        })).ToArray();

        using var start = new Barrier(Signallers);
        var signallers = Enumerable.Range(0, Signallers).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            for (var r = 0; r < Rounds; r++)
            {
                Interlocked.Increment(ref version);
                signal.Signal();
            }
        })).ToArray();

        await Task.WhenAll(signallers).WaitAsync(Deadline);
        await Task.WhenAll(waiters).WaitAsync(Deadline);
        Assert.Equal(Signallers * Rounds, Interlocked.Read(ref version));
    }

    [Fact]
    public async Task A_cancelled_wait_ends_with_cancellation_and_leaves_the_signal_working_for_others()
    {
        var signal = new ChangeSignal();
        using var cts = new CancellationTokenSource();
        var cancelled = signal.WaitAsync(cts.Token);
        var other = signal.WaitAsync(CancellationToken.None);
        var until = signal.WaitUntilAsync(() => false, cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Deadline));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => until.WaitAsync(Deadline));
        Assert.False(other.IsCompleted);
        signal.Signal();
        await other.WaitAsync(Deadline);
    }

    [Fact]
    public async Task An_already_cancelled_token_ends_the_wait_at_once()
    {
        var signal = new ChangeSignal();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => signal.WaitAsync(new CancellationToken(canceled: true)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => signal.WaitUntilAsync(() => false, new CancellationToken(canceled: true)));
    }
}
