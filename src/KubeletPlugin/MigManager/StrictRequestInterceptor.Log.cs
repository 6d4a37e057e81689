using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.MigManager;

public sealed partial class StrictRequestInterceptor
{
    [LoggerMessage(EventId = EventIds.MigManager.RequestRefused, Level = LogLevel.Warning, Message = "MIG manager refused {Operation}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string operation, string reason);

    [LoggerMessage(EventId = EventIds.MigManager.OperationFailed, Level = LogLevel.Warning, Message = "MIG manager {Operation} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string operation, string reason);
}
