using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Memory;

/// <summary>
/// Once the plugin is first ready (what /readyz reports), gives back the memory start-up needed and the steady
/// calls do not: a compacting, decommitting GC of start-up garbage, then the executable's start-up pages
/// (<see cref="ExecutablePageOut"/>). Runs once per process: start-up code runs once, and what a later call still
/// needs faults back in. Linux only; a failure changes nothing else (logged and counted, the plugin runs on).
/// Switched by <c>--trim-memory-after-start</c> (<see cref="KubeletPluginOptions.TrimMemoryAfterStart"/>).
/// </summary>
public sealed partial class StartupMemoryTrim : BackgroundService
{
    /// <summary>How often readiness is looked at until it first holds: start-up takes seconds, the trim is not urgent.</summary>
    public static readonly TimeSpan ReadinessPoll = TimeSpan.FromSeconds(1);

    private readonly HttpProbeEndpoints _readiness;
    private readonly TimeProvider _time;
    private readonly ILogger<StartupMemoryTrim> _logger;
    private readonly Counter _trims;
    private readonly Gauge _reclaimed;
    private readonly Func<PageOutResult> _pageOut;

    /// <param name="pageOut">The page-out step: <see cref="ExecutablePageOut.Run()"/> in the product; tests pass their own.</param>
    public StartupMemoryTrim(HttpProbeEndpoints readiness, MetricsRegistry metrics, TimeProvider time, ILogger<StartupMemoryTrim> logger, Func<PageOutResult> pageOut)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _readiness = readiness;
        _time = time;
        _logger = logger;
        _pageOut = pageOut;
        _trims = metrics.Counter("securedra_memory_trims_total", "Start-up memory trims (once per process, when first ready), by result: done, failed (the plugin runs on untrimmed).", "result");
        _reclaimed = metrics.Gauge("securedra_memory_trim_reclaimed_bytes", "Bytes the start-up trim gave back, by part: executable (file pages of the executable and its libraries resident before minus after), gc (GC heap bytes before minus after the compacting collection).", "part");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!_readiness.IsReady())
            {
                await Task.Delay(ReadinessPoll, _time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        Trim();
    }

    private void Trim()
    {
        try
        {
            // Start-up allocated ~26 MB, the steady heap is a few MiB (docs/performance.md §10.2).
            var gc = GcTrim.CollectAggressively();
            var pages = _pageOut();
            _reclaimed.Set(Math.Max(0, gc.HeapBefore - gc.HeapAfter), "gc");
            _reclaimed.Set(Math.Max(0, pages.ResidentBefore - pages.ResidentAfter), "executable");
            _trims.Inc("done");
            LogTrimmed(_logger, pages.ResidentBefore / 1024, pages.ResidentAfter / 1024, pages.Mappings, pages.Executable, gc.HeapBefore / 1024, gc.HeapAfter / 1024, gc.CommittedAfter / 1024);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException or EntryPointNotFoundException or DllNotFoundException)
        {
            _trims.Inc("failed");
            LogTrimFailed(_logger, ex.Message);
        }
    }
}
