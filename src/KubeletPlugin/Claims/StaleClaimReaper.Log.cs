using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Claims;

public sealed partial class StaleClaimReaper
{
    [LoggerMessage(EventId = EventIds.StaleClaimReaper.Stale, Level = LogLevel.Warning, Message = "Claim {Namespace}/{Name} ({ClaimUid}) was {Kind} on the API server but is still prepared here; its devices {Devices} stay held until the kubelet unprepares it")]
    private static partial void LogStale(ILogger logger, string @namespace, string name, string claimUid, string kind, string devices);

    [LoggerMessage(EventId = EventIds.StaleClaimReaper.Skipped, Level = LogLevel.Debug, Message = "Could not check claim {Namespace}/{Name}: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string @namespace, string name, string reason);

    [LoggerMessage(EventId = EventIds.StaleClaimReaper.Stopped, Level = LogLevel.Error, Message = "Stale-claim reaper stopped: {Reason}")]
    private static partial void LogStopped(ILogger logger, string reason);
}
