using Microsoft.Extensions.Logging;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>Structured events of per-instance MIG scrubs (IDs 6300–6399).</summary>
internal static partial class MigScrubLog
{
    [LoggerMessage(EventId = 6300, Level = LogLevel.Information, EventName = "MigInstanceScrubbed",
        Message = "Scrubbed MIG instance {InstanceUuid} (GPU instance {GpuInstanceId} of {Device}, slices {Placement}): {BytesZeroed} of {InstanceBytes} bytes zeroed and verified by {Method} in {DurationMs} ms")]
    public static partial void Scrubbed(ILogger logger, string instanceUuid, int gpuInstanceId, string device, string placement, long bytesZeroed, long instanceBytes, string method, long durationMs);

    [LoggerMessage(EventId = 6301, Level = LogLevel.Error, EventName = "MigInstanceScrubFailed",
        Message = "MIG instance {InstanceUuid} (GPU instance {GpuInstanceId} of {Device}, slices {Placement}) was not scrubbed ({Outcome}): {Reason}")]
    public static partial void Failed(ILogger logger, string instanceUuid, int gpuInstanceId, string device, string placement, string outcome, string reason);

    [LoggerMessage(EventId = 6302, Level = LogLevel.Error, EventName = "MigScrubWorkerKilled",
        Message = "MIG scrub worker for {InstanceUuid} (pid {Pid}) ran past its deadline of {DeadlineSeconds} s and was killed")]
    public static partial void Killed(ILogger logger, string instanceUuid, int pid, double deadlineSeconds);

    [LoggerMessage(EventId = 6303, Level = LogLevel.Error, EventName = "MigScrubReportRejected",
        Message = "Rejected the report of the MIG scrub worker for {InstanceUuid} (exit {ExitCode}): {Reason}")]
    public static partial void ReportRejected(ILogger logger, string instanceUuid, int exitCode, string reason);

    [LoggerMessage(EventId = 6304, Level = LogLevel.Warning, EventName = "MigInstanceScrubRefused",
        Message = "Refused to scrub MIG instance {InstanceUuid}: {Reason}")]
    public static partial void Refused(ILogger logger, string instanceUuid, string reason);
}
