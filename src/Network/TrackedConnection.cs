using Microsoft.AspNetCore.Connections;

namespace SecureDra.Network;

/// <summary>One open connection of a guarded listener: when it last did something and whether a request is running.</summary>
internal sealed class TrackedConnection(long id, ConnectionContext connection, long openedAt, bool tls)
{
    private int _inFlight;
    private long _lastActivity = openedAt;
    private volatile bool _handshaking = tls;
    private bool _served;

    public long Id { get; } = id;

    /// <summary>A TLS connection whose handshake has not completed: bounded by the handshake timeout, not the idle timeout.</summary>
    public bool Handshaking => _handshaking;

    public void HandshakeCompleted(long now)
    {
        Interlocked.Exchange(ref _lastActivity, now);
        _handshaking = false;
    }

    /// <summary>No request is being handled (handshake, waiting for headers, or between keep-alive requests).</summary>
    public bool IsIdle => Volatile.Read(ref _inFlight) == 0;

    /// <summary><see cref="TimeProvider.GetTimestamp"/> of the open, or of the last request's start or end.</summary>
    public long LastActivity => Interlocked.Read(ref _lastActivity);

    /// <summary>At least one request was received: a client that uses its connection, not one that only holds it.</summary>
    public bool Served => Volatile.Read(ref _served);

    public void RequestStarted(long now)
    {
        Volatile.Write(ref _served, true);
        Interlocked.Increment(ref _inFlight);
        Interlocked.Exchange(ref _lastActivity, now);
    }

    public void RequestEnded(long now)
    {
        Interlocked.Exchange(ref _lastActivity, now);
        Interlocked.Decrement(ref _inFlight);
    }

    /// <summary>Closes the socket now; Kestrel then ends the connection and releases its descriptor.</summary>
    public void Close(string reason) => connection.Abort(new ConnectionAbortedException(reason));
}
