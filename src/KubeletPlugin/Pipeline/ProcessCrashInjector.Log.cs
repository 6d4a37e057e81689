using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Pipeline;

public sealed partial class ProcessCrashInjector
{
    [LoggerMessage(EventId = EventIds.ProcessCrashInjector.Crashing, Level = LogLevel.Critical, Message = "Crash injected at {CrashPoint}")]
    private static partial void LogCrashing(ILogger logger, string crashPoint);
}
