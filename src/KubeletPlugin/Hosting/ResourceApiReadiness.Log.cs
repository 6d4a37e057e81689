using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Resources;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Hosting;

public sealed partial class ResourceApiReadiness
{
    [LoggerMessage(EventId = EventIds.ResourceApiReadiness.Version, Level = LogLevel.Information, Message = "Using resource.k8s.io/{Version}")]
    private static partial void LogVersion(ILogger logger, string version);

    [LoggerMessage(EventId = EventIds.ResourceApiReadiness.Deferred, Level = LogLevel.Warning, Message = "Could not negotiate the resource.k8s.io version at start ({Error}); will retry on first use")]
    private static partial void LogDeferred(ILogger logger, string error);
}
