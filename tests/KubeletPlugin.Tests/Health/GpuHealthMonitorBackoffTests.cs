using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SecureDra.KubeletPlugin.Health;
using SecureDra.Nvml.Backends;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Tests.Health;

/// <summary>
/// The health monitor's resubscribe backoff runs on the injected clock: each wait is a timer of the host's
/// TimeProvider (1 s doubling to a 30 s cap), and no resubscription happens a tick before it is due. On the real clock
/// the seven waits here would take 91 s; the test's deadline is 30 s.
/// </summary>
public sealed class GpuHealthMonitorBackoffTests
{
    [Fact]
    public async Task Resubscribe_backoff_doubles_to_a_30_s_cap_on_the_injected_clock_and_never_fires_early()
    {
        var time = new TimerSignallingTime();
        var backend = new BrokenWatchBackend();
        using var monitor = new GpuHealthMonitor(
            backend, new DeviceHealthTracker(time, new MetricsRegistry()), new FatalXidCatalog(), new MetricsRegistry(), time, NullLogger<GpuHealthMonitor>.Instance);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await monitor.StartAsync(deadline.Token);
        TimeSpan[] expected = [.. new[] { 1, 2, 4, 8, 16, 30, 30 }.Select(s => TimeSpan.FromSeconds(s))];
        foreach (var wait in expected)
        {
            await backend.Subscriptions.Reader.ReadAsync(deadline.Token);
            var due = await time.Timers.Reader.ReadAsync(deadline.Token);
            Assert.Equal(wait, due);

            time.Advance(due - TimeSpan.FromTicks(1));
            Assert.False(backend.Subscriptions.Reader.TryRead(out _), $"resubscribed before the {wait.TotalSeconds} s backoff elapsed");
            time.Advance(TimeSpan.FromTicks(1));
        }

        await backend.Subscriptions.Reader.ReadAsync(deadline.Token);
        await monitor.StopAsync(CancellationToken.None);
    }

    /// <summary>A backend whose health event source fails at once on every subscription.</summary>
    private sealed class BrokenWatchBackend : IGpuBackend
    {
        public Channel<int> Subscriptions { get; } = Channel.CreateUnbounded<int>();

        public string Kind => "broken-watch";

        public Task<IReadOnlyList<GpuDevice>> EnumerateAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<GpuDevice>>([]);

        public Task<IReadOnlyList<GpuProcess>> GetRunningProcessesAsync(GpuDevice device, CancellationToken cancellationToken) => throw new NotSupportedException();

        public async IAsyncEnumerable<GpuHealthEvent> WatchHealthAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            if (Subscriptions.Writer.TryWrite(1))
            {
                throw new IOException("event set broke");
            }

            yield break;
        }

        public Task<IDeviceMemorySession> OpenMemorySessionAsync(GpuDevice device, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
