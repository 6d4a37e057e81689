using Microsoft.Extensions.Logging;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// Structured whole-GPU scrub events: exactly one per scrub (<see cref="VramScrubber"/> writes it, nobody else), with
/// why it ran (Trigger: release, retry, startup, health, cli) and every report field as a named property. The claim a
/// release scrub ran for travels as the caller's log scope property ClaimUid.
/// </summary>
internal static partial class ScrubLog
{
    [LoggerMessage(EventId = EventIds.ScrubLog.Scrubbed, EventName = "VramScrubbed", Level = LogLevel.Information,
        Message = "Scrubbed {Device} ({Uuid}) for {Trigger} via {Method}: zeroed {BytesZeroed} of {TotalBytes} bytes ({FreeBytesBefore} free at start), coverage {Coverage:F4}, verified {Verified}; {UncoveredBytes} bytes not covered: {BaselineReservedBytes} reserved baseline, {UnallocatableBytes} not allocatable now (tolerance {ToleranceBytes}); setup {SetupMs} ms, allocate {AllocateMs} ms, zero {ZeroMs} ms, verify {VerifyMs} ms, free {FreeMs} ms, total {TotalMs} ms")]
    public static partial void Scrubbed(ILogger logger, string device, string uuid, string trigger, string method, long bytesZeroed, long totalBytes, long freeBytesBefore,
        double coverage, bool verified, long uncoveredBytes, long baselineReservedBytes, long unallocatableBytes, long toleranceBytes,
        double setupMs, double allocateMs, double zeroMs, double verifyMs, double freeMs, double totalMs);

    [LoggerMessage(EventId = EventIds.ScrubLog.Failed, EventName = "VramScrubFailed", Level = LogLevel.Error,
        Message = "Scrub of {Device} ({Uuid}) for {Trigger} FAILED ({Outcome}): {FailureReason}; method {Method}, zeroed {BytesZeroed} of {TotalBytes} bytes ({FreeBytesBefore} free at start), coverage {Coverage:F4}, verified {Verified}; {UncoveredBytes} bytes not covered: {BaselineReservedBytes} reserved baseline, {UnallocatableBytes} not allocatable now (tolerance {ToleranceBytes}); total {TotalMs} ms")]
    public static partial void Failed(ILogger logger, string device, string uuid, string trigger, string outcome, string failureReason, string method, long bytesZeroed, long totalBytes,
        long freeBytesBefore, double coverage, bool verified, long uncoveredBytes, long baselineReservedBytes, long unallocatableBytes, long toleranceBytes, double totalMs);

    [LoggerMessage(EventId = EventIds.ScrubLog.Refused, EventName = "VramScrubRefused", Level = LogLevel.Warning,
        Message = "Refused to scrub {Device} ({Uuid}) for {Trigger}: {ProcessCount} compute process(es) still running, pids {Pids}")]
    public static partial void Refused(ILogger logger, string device, string uuid, string trigger, int processCount, string pids);
}
