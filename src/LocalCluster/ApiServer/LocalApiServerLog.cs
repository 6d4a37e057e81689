using Microsoft.Extensions.Logging;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>The local API server's own log events (6540-6549): [LoggerMessage] with an EventId like every other event.</summary>
internal static partial class LocalApiServerLog
{
    [LoggerMessage(EventId = EventIds.LocalApiServerLog.Listening, EventName = "LocalApiServerListening", Level = LogLevel.Information,
        Message = "Local API server (in memory, Kubernetes {KubernetesVersion}) listening on {BaseAddress}")]
    public static partial void Listening(ILogger logger, string kubernetesVersion, string baseAddress);
}
