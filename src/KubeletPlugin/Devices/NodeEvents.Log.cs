using Microsoft.Extensions.Logging;
using SecureDra.Kube.Events;
using SecureDra.KubeletPlugin.Pipeline;

namespace SecureDra.KubeletPlugin.Devices;

public sealed partial class NodeEvents
{
    [LoggerMessage(EventId = EventIds.NodeEvents.EventFailed, Level = LogLevel.Warning, Message = "Could not record the {Reason} Node Event: {Detail}")]
    private static partial void LogEventFailed(ILogger logger, string reason, string detail);
}
