using System.Globalization;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Events;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Runs one scrub and turns every way it can end (verified, not verified, refused, thrown,
/// timed out) into a <see cref="ScrubOutcome"/>, with its evidence: a structured log event
/// carrying the report, metrics, and an Event on the Node (VramScrubbed / VramScrubFailed).
/// </summary>
public sealed partial class ScrubRunner
{
    private readonly IVramScrubber _scrubber;
    private readonly IEventRecorder _events;
    private readonly PipelineContext _context;
    private readonly TimeProvider _time;
    private readonly ILogger<ScrubRunner> _logger;
    private readonly Counter _scrubs;
    private readonly Counter _failures;
    private readonly Counter _bytes;
    private readonly Histogram _duration;
    private readonly NodeIdentity? _node;

    public ScrubRunner(IVramScrubber scrubber, IEventRecorder events, PipelineContext context, MetricsRegistry metrics, TimeProvider time, ILogger<ScrubRunner> logger, NodeIdentity? node = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _scrubber = scrubber;
        _events = events;
        _context = context;
        _time = time;
        _logger = logger;
        _node = node;
        _scrubs = metrics.Counter("securedra_release_scrubs_total", "Scrubs run on release or retry of a device, by outcome (verified, failed); the GPU layer's securedra_scrubs_total counts every scrub by backend.", "outcome");
        _failures = metrics.Counter("securedra_release_scrub_failures_total", "Failed release scrubs by reason (not_verified, refused, error, timeout); each one withdrew the device.", "reason");
        _bytes = metrics.Counter("securedra_release_scrub_bytes_total", "Bytes of VRAM zeroed and verified by release scrubs.");
        _duration = metrics.Histogram("securedra_release_scrub_duration_seconds", "Duration of release scrubs, including waiting for the device.", MetricsRegistry.SecondsBuckets, "outcome");
    }

    /// <param name="claimUid">The claim whose release triggered the scrub; null for retries of withdrawn devices.</param>
    /// <param name="cancellationToken">Its cancellation is the scrub's deadline: a scrub cut short counts as a timeout.</param>
    public async Task<ScrubOutcome> RunAsync(GpuDevice device, string? claimUid, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        var started = _time.GetTimestamp();
        ScrubOutcome outcome;
        string reason;
        // The GPU layer logs every scrub once (VramScrubbed 3001, VramScrubFailed 3002, VramScrubRefused 3003); the claim
        // it ran for travels with that event as a scope property (ClaimUid) rather than as a second event from here.
        using var scope = _logger.BeginScope(new KeyValuePair<string, object>[] { new("ClaimUid", claimUid ?? "") });
        try
        {
            var report = await _scrubber.ScrubAsync(device, cancellationToken).ConfigureAwait(false);
            var clean = report.Succeeded && report.Verified;
            (reason, outcome) = report switch
            {
                { Refused: true } => ("refused", new ScrubOutcome(device.Name, false, report.FailureReason ?? "refused", null)),
                _ when clean => ("", new ScrubOutcome(device.Name, true, "verified", report)),
                _ => ("not_verified", new ScrubOutcome(device.Name, false, $"scrub not verified: {report.FailureReason ?? "the device did not confirm zeroed memory"}", report)),
            };
        }
        catch (OperationCanceledException)
        {
            reason = "timeout";
            outcome = new ScrubOutcome(device.Name, false, $"scrub timed out after {_time.GetElapsedTime(started).TotalSeconds:F1} s", null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            reason = "error";
            outcome = new ScrubOutcome(device.Name, false, $"scrub failed: {ex.GetType().Name}: {ex.Message}", null);
        }

        var elapsed = _time.GetElapsedTime(started);
        await RecordAsync(device, claimUid, outcome, reason, elapsed).ConfigureAwait(false);
        return outcome;
    }

    private async Task RecordAsync(GpuDevice device, string? claimUid, ScrubOutcome outcome, string reason, TimeSpan elapsed)
    {
        var label = outcome.Clean ? "verified" : "failed";
        _scrubs.Inc(label);
        _duration.Observe(elapsed.TotalSeconds, label);
        if (outcome.Report is { } r)
        {
            _bytes.Add(Math.Max(0, r.BytesZeroed));
        }

        if (!outcome.Clean)
        {
            _failures.Inc(reason);
        }

        var report = outcome.Report;
        if (!outcome.Clean && (report is null ? reason is "timeout" or "error" : report.Succeeded))
        {
            // Only what the GPU layer did not log as a failure itself: no report (timeout, error), or a report it
            // called a success that this node does not accept (not verified).
            LogScrubFailed(_logger, device.Name, device.Uuid, claimUid ?? "", outcome.Detail, elapsed.TotalMilliseconds);
        }

        var message = string.Create(CultureInfo.InvariantCulture,
            $"device {device.Name} ({device.Uuid}) claim {(claimUid is null ? "(retry)" : claimUid)}: {report?.BytesZeroed ?? 0} bytes zeroed, coverage {(report?.Coverage ?? 0):P2}, duration {elapsed.TotalMilliseconds:F0} ms, verified {(report?.Verified ?? false ? "yes" : "no")}{(report is null ? "" : "; " + report.DescribeUncovered())}");
        if (!outcome.Clean)
        {
            message += "; " + outcome.Detail + "; device withdrawn from scheduling";
        }

        try
        {
            // Evidence must not eat the unprepare budget: a short deadline of its own.
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
            await _events.RecordAsync(
                new EventTarget("v1", "Node", _context.Plugin.NodeName, null, _node?.Uid),
                outcome.Clean ? EventSeverity.Normal : EventSeverity.Warning,
                outcome.Clean ? "VramScrubbed" : "VramScrubFailed",
                message.Length > 1024 ? message[..1024] : message,
                cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogEventFailed(_logger, ex.Message);
        }
    }

    // EventId 4200 ("VRAM scrubbed", a second event for every release scrub) is retired: VramScrubbed 3001 carries it.
    [LoggerMessage(EventId = 4201, EventName = "ReleaseScrubFailed", Level = LogLevel.Error,
        Message = "VRAM scrub FAILED: {Device} ({Uuid}) claim {ClaimUid}: {Detail} after {DurationMs} ms; the device is withdrawn from scheduling")]
    private static partial void LogScrubFailed(ILogger logger, string device, string uuid, string claimUid, string detail, double durationMs);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "Could not record the scrub Event: {Reason}")]
    private static partial void LogEventFailed(ILogger logger, string reason);
}
