using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Memory;

/// <summary>
/// Once the plugin has answered calls and then gone <see cref="IdleAfter"/> without one (none in flight), runs one
/// compacting, aggressive GC, which returns the GC's free regions to the OS. A burst of Prepare calls leaves the GC
/// with more committed than live memory (under CPU load 13–18 MiB committed for a 5–8 MiB live heap: more allocation
/// between collections, survivors parked in gen1), and the GC keeps it for the next burst; a node daemon is idle most
/// of the time, so that memory is better given back (docs/performance.md §10.7). One trim per idle period: a
/// trim needs a completed call since the last one, so a plugin nobody calls is not collected again and again; until
/// a call ends it sets no timer at all (<see cref="CallActivity.NextEnd"/>), so a quiet node's plugin is not woken.
/// Never during a call: only after <see cref="IdleAfter"/> with none in flight; a call that arrives while the
/// collection runs waits for it (milliseconds: the heap is a few MiB). Switched by <c>--trim-memory-when-idle</c>
/// (<see cref="Hosting.KubeletPluginOptions.TrimMemoryWhenIdle"/>).
/// </summary>
public sealed partial class IdleMemoryTrim : BackgroundService
{
    private readonly CallActivity _activity;
    private readonly TimeProvider _time;
    private readonly ILogger<IdleMemoryTrim> _logger;
    private readonly Func<GcTrimResult> _collect;
    private readonly Counter _trims;
    private readonly Counter _reclaimed;

    /// <param name="collect">The collection: <see cref="GcTrim.CollectAggressively"/> in the product; tests pass their own.</param>
    public IdleMemoryTrim(TimeSpan idleAfter, CallActivity activity, MetricsRegistry metrics, TimeProvider time, ILogger<IdleMemoryTrim> logger, Func<GcTrimResult> collect)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(idleAfter, TimeSpan.Zero);
        IdleAfter = idleAfter;
        _activity = activity;
        _time = time;
        _logger = logger;
        _collect = collect;
        _trims = metrics.Counter("securedra_memory_idle_trims_total", "Idle memory trims: compacting GCs run once the plugin went --trim-memory-when-idle without a call, after a call.");
        _reclaimed = metrics.Counter("securedra_memory_idle_trim_reclaimed_bytes_total", "GC committed bytes the idle trims gave back to the OS (committed before minus after each trim), summed.");
        // Rendered as 0 from the start, not absent until the first trim: a scraper (and the bench) tells "no trim yet" from "no trim service".
        _trims.Add(0);
        _reclaimed.Add(0);
    }

    /// <summary>How long without a call before the trim runs.</summary>
    public TimeSpan IdleAfter { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var trimmedAt = 0L;
        try
        {
            while (true)
            {
                var nextEnd = _activity.NextEnd; // before the look: a call that ends after it wakes this loop
                var now = _activity.Snapshot();
                if (now.InFlight > 0 || now.Completed == trimmedAt)
                {
                    // Nothing to trim before a call ends (none since the last trim, or one still running): sleep
                    // until one does instead of waking every IdleAfter for the whole of a quiet node's life.
                    await nextEnd.WaitAsync(stoppingToken).ConfigureAwait(false);
                    continue;
                }

                var idle = _time.GetElapsedTime(now.LastEndedTimestamp);
                if (idle >= IdleAfter)
                {
                    Trim(idle);
                    trimmedAt = now.Completed;
                    continue;
                }

                await Task.Delay(IdleAfter - idle, _time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Trim(TimeSpan idle)
    {
        var result = _collect();
        _trims.Inc();
        _reclaimed.Add(Math.Max(0, result.CommittedBefore - result.CommittedAfter));
        LogTrimmed(_logger, (long)idle.TotalSeconds, result.HeapBefore / 1024, result.HeapAfter / 1024, result.CommittedBefore / 1024, result.CommittedAfter / 1024);
    }
}
