using Microsoft.Extensions.Logging;

namespace SecureDra.Nvml.Canary;

/// <summary>One structured event per canary run (event IDs 3101-3103, next to the scrubber's 3001-3003).</summary>
internal static partial class CanaryLog
{
    [LoggerMessage(EventId = EventIds.CanaryLog.Passed, EventName = "VramCanaryPassed", Level = LogLevel.Information,
        Message = "VRAM canary passed on {Device} ({Uuid}): {BytesChecked} bytes in {Allocations} allocation(s) read back zero via {Method}; marker written {MarkerWritten}; {DurationMs} ms")]
    public static partial void Passed(ILogger logger, string device, string uuid, long bytesChecked, int allocations, string method, bool markerWritten, double durationMs);

    [LoggerMessage(EventId = EventIds.CanaryLog.Failed, EventName = "VramCanaryFailed", Level = LogLevel.Error,
        Message = "VRAM canary FAILED on {Device} ({Uuid}): non-zero data in {DirtyAllocations} of {Allocations} allocation(s), covering {DirtyBytes} of {BytesChecked} bytes: a previous release was not scrubbed; marker written {MarkerWritten}; {DurationMs} ms")]
    public static partial void Failed(ILogger logger, string device, string uuid, int dirtyAllocations, int allocations, long dirtyBytes, long bytesChecked, bool markerWritten, double durationMs);

    [LoggerMessage(EventId = EventIds.CanaryLog.Incomplete, EventName = "VramCanaryIncomplete", Level = LogLevel.Warning,
        Message = "VRAM canary could not finish on {Device} ({Uuid}): {FailureReason}; {BytesChecked} bytes checked, {DirtyBytes} non-zero; {DurationMs} ms")]
    public static partial void Incomplete(ILogger logger, string device, string uuid, string failureReason, long bytesChecked, long dirtyBytes, double durationMs);
}
