using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Nvml.Backends;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Health;

/// <summary>
/// Turns the GPU backend's health events (NVML event set, or injected simulated events) into
/// per-device health. A fatal Xid, a double-bit ECC error or a lost GPU makes the device
/// unhealthy; non-fatal Xids are logged and counted only. A device comes back only through
/// <see cref="DeviceHealthTracker.Report"/> from a successful scrub plus health check, or a
/// backend "recovered" event (an operator reset the GPU).
/// </summary>
public sealed partial class GpuHealthMonitor(
    IGpuBackend backend,
    DeviceHealthTracker tracker,
    FatalXidCatalog catalog,
    MetricsRegistry metrics,
    TimeProvider time,
    ILogger<GpuHealthMonitor> logger) : BackgroundService
{
    private readonly Counter _events = metrics.Counter("securedra_gpu_health_events_total", "GPU health events by device, kind and whether they were fatal.", "device", "kind", "fatal");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        try
        {
            var devices = await backend.EnumerateAsync(stoppingToken).ConfigureAwait(false);
            tracker.Initialize(devices.Select(d => d.Name));
        }
        catch (GpuBackendException ex)
        {
            // The pipeline fails start-up on the same error; the stream then reports nothing rather than guessing.
            LogEnumerateFailed(logger, ex);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var healthEvent in backend.WatchHealthAsync(stoppingToken).ConfigureAwait(false))
                {
                    Handle(healthEvent);
                    delay = TimeSpan.FromSeconds(1);
                }

                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A broken event source must not end health monitoring: log, back off, resubscribe.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogWatchFailed(logger, ex, delay);
                try
                {
                    // Through the host's TimeProvider, so the resubscribe backoff is testable without waiting it out.
                    await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    /// <summary>Applies one event; public so tests and the demo can drive it directly.</summary>
    public void Handle(GpuHealthEvent healthEvent)
    {
        ArgumentNullException.ThrowIfNull(healthEvent);
        var (fatal, message) = Classify(healthEvent);
        _events.Inc(healthEvent.DeviceName, healthEvent.Kind.ToString(), fatal ? "true" : "false");
        if (healthEvent.Kind == GpuHealthEventKind.Recovered)
        {
            if (tracker.Report(healthEvent.DeviceName, DeviceHealthStatus.Healthy, ""))
            {
                LogRecovered(logger, healthEvent.DeviceName, healthEvent.Description);
            }

            return;
        }

        if (!fatal)
        {
            LogNonFatal(logger, healthEvent.DeviceName, message);
            return;
        }

        if (tracker.Report(healthEvent.DeviceName, DeviceHealthStatus.Unhealthy, message))
        {
            LogUnhealthy(logger, healthEvent.DeviceName, message, healthEvent.Kind.ToString());
        }
    }

    private (bool Fatal, string Message) Classify(GpuHealthEvent e) => e.Kind switch
    {
        GpuHealthEventKind.Xid when e.EventData <= int.MaxValue => (catalog.IsFatal((int)e.EventData), FatalXidCatalog.Describe((int)e.EventData)),
        GpuHealthEventKind.Xid => (false, $"Xid {e.EventData} (not a known Xid number)"),
        GpuHealthEventKind.DoubleBitEcc => (true, "double-bit ECC error"),
        GpuHealthEventKind.GpuLost => (true, "GPU lost"),
        GpuHealthEventKind.SingleBitEcc => (false, "single-bit ECC error (corrected)"),
        _ => (false, e.Description),
    };
}
