using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Memory;

public sealed partial class IdleMemoryTrim
{
    [LoggerMessage(EventId = EventIds.IdleMemoryTrim.Trimmed, Level = LogLevel.Information,
        Message = "Idle memory trimmed after {IdleSeconds} s without a call: GC heap {HeapBeforeKiB} KiB -> {HeapAfterKiB} KiB, committed {CommittedBeforeKiB} KiB -> {CommittedAfterKiB} KiB")]
    private static partial void LogTrimmed(ILogger logger, long idleSeconds, long heapBeforeKiB, long heapAfterKiB, long committedBeforeKiB, long committedAfterKiB);
}
