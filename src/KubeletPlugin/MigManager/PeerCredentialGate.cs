using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// Connection middleware of the MIG manager's socket: serves a connection only when the kernel's record of the peer
/// (SO_PEERCRED) has the allowed uid. File mode 0600 already keeps other users out of the socket; this holds even
/// where the socket's directory or mode is wider than intended (a misconfigured emptyDir, a shared hostPath), and a
/// refusal is evidence (log event 6951, metric) rather than a silent EACCES on the client's side.
/// </summary>
public sealed partial class PeerCredentialGate(uint allowedUid, MigManagerMetrics metrics, ILogger<PeerCredentialGate> logger)
{
    public uint AllowedUid => allowedUid;

    public Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => connection =>
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        var peer = socket is null ? null : PeerCredentials.Of(socket);
        if (peer is not { } credentials)
        {
            metrics.Refused("no_credentials");
            LogNoCredentials(logger);
            connection.Abort(new ConnectionAbortedException("the peer's credentials (SO_PEERCRED) could not be read"));
            return Task.CompletedTask;
        }

        if (credentials.Uid != allowedUid)
        {
            metrics.Refused("peer_uid");
            LogPeerRefused(logger, credentials.Pid, credentials.Uid, allowedUid);
            connection.Abort(new ConnectionAbortedException($"peer uid {credentials.Uid} is not the allowed uid {allowedUid}"));
            return Task.CompletedTask;
        }

        return next(connection);
    };

    [LoggerMessage(EventId = MigManagerEventIds.PeerRefused, Level = LogLevel.Warning,
        Message = "MIG manager refused a connection from pid {Pid} uid {Uid}: only uid {AllowedUid} may call it")]
    private static partial void LogPeerRefused(ILogger logger, int pid, uint uid, uint allowedUid);

    [LoggerMessage(EventId = MigManagerEventIds.NoCredentials, Level = LogLevel.Warning,
        Message = "MIG manager refused a connection whose peer credentials (SO_PEERCRED) could not be read")]
    private static partial void LogNoCredentials(ILogger logger);
}
