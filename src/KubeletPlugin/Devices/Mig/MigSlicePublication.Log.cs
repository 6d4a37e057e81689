using Microsoft.Extensions.Logging;
using SecureDra.Kube.Events;
using SecureDra.Kube.Resources;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Devices.Mig;

public sealed partial class MigSlicePublication
{
    [LoggerMessage(EventId = EventIds.MigSlicePublication.Fallback, Level = LogLevel.Warning, Message = "Dynamic MIG falls back: {Reason}; MIG placements are not published and GPUs in MIG mode stay withdrawn")]
    private static partial void LogFallback(ILogger logger, string reason);
}
