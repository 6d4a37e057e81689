using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Kube.Client;

namespace SecureDra.Kube.Events;

public sealed partial class KubeEventRecorder
{
    [LoggerMessage(EventId = EventIds.KubeEventRecorder.Suppressed, Level = LogLevel.Debug, Message = "Event {Reason} for {Kind} {Name} suppressed by rate limit ({Suppressed} pending)")]
    private static partial void LogSuppressed(ILogger logger, string kind, string name, string reason, int suppressed);

    [LoggerMessage(EventId = EventIds.KubeEventRecorder.Failed, Level = LogLevel.Warning, Message = "Could not write event {Reason} for {Kind} {Name}: {Failure}")]
    private static partial void LogFailed(ILogger logger, string kind, string name, string reason, string failure);
}
