using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.MigManager;

public sealed partial class MigManagerMonitor
{
    [LoggerMessage(EventId = EventIds.MigManager.Unreachable, Level = LogLevel.Warning,
        Message = "MIG manager at {Socket} does not answer: {Count} MIG GPU(s) withdrawn (MigManagerUnavailable) until it does: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string socket, int count, string reason);

    [LoggerMessage(EventId = EventIds.MigManager.Reachable, Level = LogLevel.Information,
        Message = "MIG manager at {Socket} answers again: the withdrawal of {Count} MIG GPU(s) is lifted; their instances return after a verified scrub")]
    private static partial void LogReachable(ILogger logger, string socket, int count);

    [LoggerMessage(EventId = EventIds.MigManager.PlacementsMarkedDirty, Level = LogLevel.Warning,
        Message = "MIG manager unreachable: {Count} free MIG instance(s) recorded dirty, to be scrubbed before they are offered again: {Devices}")]
    private static partial void LogMarkedDirty(ILogger logger, int count, string devices);

    [LoggerMessage(EventId = EventIds.MigManager.CheckFailed, Level = LogLevel.Warning, Message = "MIG manager check could not record its outcome: {Reason}")]
    private static partial void LogCheckFailed(ILogger logger, string reason);
}
