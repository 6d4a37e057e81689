using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// Connection middleware of the MIG manager's socket: serves a connection only when the kernel's record of the peer
/// (SO_PEERCRED) has the allowed uid. File mode 0600 already keeps other users out of the socket; this holds even
/// where the socket's directory or mode is wider than intended (a misconfigured emptyDir, a shared hostPath), and a
/// refusal is evidence (log event 6951/6952, metric) rather than a silent EACCES on the client's side. Every refusal
/// is counted; the log says the first at once and then at most one line per <see cref="LogInterval"/> with the number
/// left out, so a flood of refused connections cannot flood the log.
/// </summary>
public sealed partial class PeerCredentialGate(uint allowedUid, MigManagerMetrics metrics, TimeProvider time, ILogger<PeerCredentialGate> logger)
{
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly Lock _log = new();
    private long _lastLog = long.MinValue;
    private int _unlogged;

    public uint AllowedUid => allowedUid;

    public Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => connection =>
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        var peer = socket is null ? null : PeerCredentials.Of(socket);
        if (peer is not { } credentials)
        {
            metrics.Refused("no_credentials");
            if (ShouldLog(out var skipped))
            {
                LogNoCredentials(logger, skipped);
            }

            connection.Abort(new ConnectionAbortedException("the peer's credentials (SO_PEERCRED) could not be read"));
            return Task.CompletedTask;
        }

        if (credentials.Uid != allowedUid)
        {
            metrics.Refused("peer_uid");
            if (ShouldLog(out var skipped))
            {
                LogPeerRefused(logger, credentials.Pid, credentials.Uid, allowedUid, skipped);
            }

            connection.Abort(new ConnectionAbortedException($"peer uid {credentials.Uid} is not the allowed uid {allowedUid}"));
            return Task.CompletedTask;
        }

        return next(connection);
    };

    private bool ShouldLog(out int skipped)
    {
        lock (_log)
        {
            var now = time.GetTimestamp();
            if (_lastLog != long.MinValue && time.GetElapsedTime(_lastLog, now) < LogInterval)
            {
                _unlogged++;
                skipped = 0;
                return false;
            }

            _lastLog = now;
            skipped = _unlogged;
            _unlogged = 0;
            return true;
        }
    }
}
