using Microsoft.Extensions.Logging;
using SecureDra.Kube.Events;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Devices;

public sealed partial class MigModeMonitor
{
    [LoggerMessage(EventId = EventIds.MigModeMonitor.Withdrawn, Level = LogLevel.Warning, Message = "GPU {Device} ({Uuid}) has MIG mode enabled or pending: withdrawn from scheduling (MigModeEnabled); MIG devices are not supported yet")]
    private static partial void LogWithdrawn(ILogger logger, string device, string uuid);

    [LoggerMessage(EventId = EventIds.MigModeMonitor.MigOff, Level = LogLevel.Information, Message = "GPU {Device} ({Uuid}) left MIG mode: it returns to scheduling after a verified scrub")]
    private static partial void LogMigOff(ILogger logger, string device, string uuid);
}
