using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Memory;

public sealed partial class StartupMemoryTrim
{
    [LoggerMessage(EventId = EventIds.StartupMemoryTrim.Trimmed, Level = LogLevel.Information,
        Message = "Start-up memory trimmed once ready: executable and library pages resident {BeforeKiB} KiB -> {AfterKiB} KiB ({Mappings} mappings of {Executable} and its libraries), GC heap {HeapBeforeKiB} KiB -> {HeapAfterKiB} KiB, {CommittedKiB} KiB committed")]
    private static partial void LogTrimmed(ILogger logger, long beforeKiB, long afterKiB, int mappings, string executable, long heapBeforeKiB, long heapAfterKiB, long committedKiB);

    [LoggerMessage(EventId = EventIds.StartupMemoryTrim.Failed, Level = LogLevel.Warning,
        Message = "Start-up memory trim failed ({Error}); the plugin runs on with its start-up pages resident")]
    private static partial void LogTrimFailed(ILogger logger, string error);
}
