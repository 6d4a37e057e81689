using Microsoft.Extensions.Logging;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// Structured events of per-instance MIG scrubs: exactly one per scrub, written by <see cref="MigInstanceScrubber"/>.
/// 6302 (worker killed) and 6303 (report rejected) are retired: they were a second event for a scrub that 6301 already
/// reports, now with its outcome (timeout, rejected) and the reason.
/// </summary>
internal static partial class MigScrubLog
{
    [LoggerMessage(EventId = EventIds.MigScrubLog.Scrubbed, Level = LogLevel.Information, EventName = "MigInstanceScrubbed",
        Message = "Scrubbed MIG instance {InstanceUuid} (GPU instance {GpuInstanceId} of {Device}, slices {Placement}) for {Trigger}: {BytesZeroed} of {InstanceBytes} bytes zeroed and verified by {Method} in {DurationMs} ms")]
    public static partial void Scrubbed(ILogger logger, string instanceUuid, int gpuInstanceId, string device, string placement, string trigger, long bytesZeroed, long instanceBytes, string method, long durationMs);

    [LoggerMessage(EventId = EventIds.MigScrubLog.Failed, Level = LogLevel.Error, EventName = "MigInstanceScrubFailed",
        Message = "MIG instance {InstanceUuid} (GPU instance {GpuInstanceId} of {Device}, slices {Placement}) was not scrubbed for {Trigger} ({Outcome}): {Reason}")]
    public static partial void Failed(ILogger logger, string instanceUuid, int gpuInstanceId, string device, string placement, string trigger, string outcome, string reason);

    [LoggerMessage(EventId = EventIds.MigScrubLog.Refused, Level = LogLevel.Warning, EventName = "MigInstanceScrubRefused",
        Message = "Refused to scrub MIG instance {InstanceUuid} for {Trigger}: {Reason}")]
    public static partial void Refused(ILogger logger, string instanceUuid, string trigger, string reason);
}
