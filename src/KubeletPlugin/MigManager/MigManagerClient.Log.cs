using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.MigManager;

public sealed partial class MigManagerClient
{
    [LoggerMessage(EventId = EventIds.MigManager.CallFailed, Level = LogLevel.Warning, Message = "MIG manager call {Operation} got no usable answer: {Reason}")]
    private static partial void LogCallFailed(ILogger logger, string operation, string reason);
}
