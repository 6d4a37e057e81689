using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SecureDra.Controller.Audit;
using SecureDra.Kube.Client;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Leadership;

public sealed partial class LeaseLeaderElector
{
    [LoggerMessage(EventId = EventIds.LeaseLeaderElector.LeaseRoundTripFailed, Level = LogLevel.Warning, Message = "Leader lease {Namespace}/{Lease} round trip failed: {Error}")]
    private static partial void LogLeaseRoundTripFailed(ILogger logger, string @namespace, string lease, string error);
}
