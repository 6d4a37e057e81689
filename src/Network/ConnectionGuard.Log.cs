using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SecureDra.Observability.Metrics;

namespace SecureDra.Network;

public sealed partial class ConnectionGuard
{
    [LoggerMessage(EventId = EventIds.ConnectionGuard.AtCap, Level = LogLevel.Warning,
        Message = "Listener {Listener} at its cap of {MaxConnections} connections: evicted {Evicted} idle connection(s) and refused {Refused} in the last {Seconds:0} s")]
    private partial void LogAtCap(string listener, int maxConnections, long evicted, long refused, double seconds);

    [LoggerMessage(EventId = EventIds.ConnectionGuard.HandshakeFailures, Level = LogLevel.Warning,
        Message = "Listener {Listener}: {Failures} connection(s) ended without a completed TLS handshake (no or untrusted client certificate, timeout, not TLS) in the last {Seconds:0} s")]
    private partial void LogHandshakeFailures(string listener, long failures, double seconds);
}
