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
        _duration = metrics.Histogram("securedra_release_scrub_duration_seconds", "Duration of release scrubs, including waiting for the device.", MetricsRegistry.LatencyBuckets, "outcome");
    }

    /// <param name="claimUid">The claim whose release triggered the scrub; null for retries of withdrawn devices.</param>
    /// <param name="cancellationToken">Its cancellation is the scrub's deadline: a scrub cut short counts as a timeout.</param>
    public async Task<ScrubOutcome> RunAsync(GpuDevice device, string? claimUid, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        var started = _time.GetTimestamp();
        ScrubOutcome outcome;
        string reason;
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
        if (outcome.Clean)
        {
            LogScrubbed(_logger, device.Name, device.Uuid, claimUid ?? "", report?.BytesZeroed ?? 0, report?.TotalBytes ?? 0, report?.Coverage ?? 0,
                elapsed.TotalMilliseconds, report?.Verified ?? false, report?.Method ?? "", report?.ZeroDuration.TotalMilliseconds ?? 0, report?.VerifyDuration.TotalMilliseconds ?? 0,
                report?.UncoveredBytes ?? 0, report?.BaselineReservedBytes ?? 0, report?.UnallocatableBytes ?? 0);
        }
        else
        {
            LogScrubFailed(_logger, device.Name, device.Uuid, claimUid ?? "", outcome.Detail, report?.BytesZeroed ?? 0, report?.Coverage ?? 0, elapsed.TotalMilliseconds, report?.Verified ?? false,
                report?.UncoveredBytes ?? 0, report?.BaselineReservedBytes ?? 0, report?.UnallocatableBytes ?? 0);
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

    [LoggerMessage(EventId = 4200, Level = LogLevel.Information,
        Message = "VRAM scrubbed: {Device} ({Uuid}) claim {ClaimUid}: {BytesZeroed} of {TotalBytes} bytes, coverage {Coverage}, {DurationMs} ms, verified {Verified}, method {Method}, zero {ZeroMs} ms, verify {VerifyMs} ms; {UncoveredBytes} bytes not covered: {BaselineReservedBytes} reserved baseline, {UnallocatableBytes} not allocatable now")]
    private static partial void LogScrubbed(ILogger logger, string device, string uuid, string claimUid, long bytesZeroed, long totalBytes, double coverage, double durationMs, bool verified, string method, double zeroMs, double verifyMs,
        long uncoveredBytes, long baselineReservedBytes, long unallocatableBytes);

    [LoggerMessage(EventId = 4201, Level = LogLevel.Error,
        Message = "VRAM scrub FAILED: {Device} ({Uuid}) claim {ClaimUid}: {Detail}; {BytesZeroed} bytes, coverage {Coverage}, {DurationMs} ms, verified {Verified}; {UncoveredBytes} bytes not covered: {BaselineReservedBytes} reserved baseline, {UnallocatableBytes} not allocatable now; the device is withdrawn from scheduling")]
    private static partial void LogScrubFailed(ILogger logger, string device, string uuid, string claimUid, string detail, long bytesZeroed, double coverage, double durationMs, bool verified,
        long uncoveredBytes, long baselineReservedBytes, long unallocatableBytes);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "Could not record the scrub Event: {Reason}")]
    private static partial void LogEventFailed(ILogger logger, string reason);
}
