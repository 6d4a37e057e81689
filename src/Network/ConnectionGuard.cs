using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SecureDra.Observability.Metrics;

namespace SecureDra.Network;

/// <summary>
/// Bounds the connections of one TCP listener, whatever Kestrel's server-wide limits are (those also cover the
/// kubelet's Unix sockets, which must keep their connection for ever). Installed as the first connection middleware
/// of the listener, before TLS, so a connection counts from accept to close, handshake included.
/// <list type="bullet">
/// <item>At most <see cref="ListenerLimits.MaxConnections"/> open. At the cap a new connection evicts the longest-idle
/// one (no request in flight), preferring one that never carried a request: holding idle or half-open connections
/// cannot lock legitimate clients out, it only makes the holder's own connections short-lived. When every connection
/// is busy the new one is refused.</item>
/// <item>A connection with no request in flight for <see cref="ListenerLimits.IdleTimeout"/> is closed; on a TLS
/// listener the clock starts when the handshake completes (the handshake has its own timeout).</item>
/// </list>
/// Requests are seen through <see cref="TrackRequestAsync"/>, an HTTP middleware the host adds once.
/// </summary>
public sealed partial class ConnectionGuard : IDisposable
{
    internal const string ItemKey = "securedra.connection-guard";
    internal const string DescriptorKey = "securedra.connection-guard.descriptor";

    /// <summary>Evictions and refusals come in floods: one summary event per listener at most this often.</summary>
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly string _listener;
    private readonly ListenerLimits _limits;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, TrackedConnection> _open = new();
    private readonly Lock _admit = new();
    private readonly ITimer _sweep;
    private readonly Gauge _openGauge;
    private readonly Counter _closed;
    private readonly Counter _handshakeFailures;
    private readonly bool _tls;
    private long _nextId;
    private long _descriptors;
    private long _evictedSinceLog;
    private long _refusedSinceLog;
    private long _handshakeFailuresSinceLog;
    private long _lastLog;

    /// <param name="tls">The listener terminates TLS after this guard (and has <see cref="AfterTls"/> after UseHttps): a
    /// connection that ends without a completed handshake (no or wrong client certificate, handshake timeout, not TLS at
    /// all) is counted as a handshake failure.</param>
    public ConnectionGuard(string listener, EndPoint endpoint, ListenerLimits limits, bool tls, MetricsRegistry metrics, TimeProvider time, ILogger<ConnectionGuard> logger)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = endpoint;
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(time);
        _listener = listener;
        _limits = limits;
        _time = time;
        _logger = logger;
        _lastLog = time.GetTimestamp();
        _openGauge = metrics.Gauge("securedra_listener_open_connections", "Open connections per TCP listener.", "listener");
        _closed = metrics.Counter(
            "securedra_listener_connections_closed_total",
            "Connections closed by the listener's guard, by listener and reason (idle: idle timeout; evicted: longest-idle connection closed for a new one at the cap; refused: at the cap with none idle).",
            "listener", "reason");
        _handshakeFailures = metrics.Counter(
            "securedra_listener_tls_handshake_failures_total",
            "Connections to a TLS listener that ended without a completed handshake (no or untrusted client certificate, handshake timeout, not TLS), by listener.",
            "listener");
        _tls = tls;
        _openGauge.Set(0, listener);
        var period = TimeSpan.FromTicks(Math.Clamp(limits.IdleTimeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(5).Ticks));
        _sweep = time.CreateTimer(_ => Sweep(), null, period, period);
    }

    public string Listener => _listener;

    /// <summary>The endpoint this guard's listener binds; pass this very object to Kestrel's Listen (the transport matches on it).</summary>
    public EndPoint Endpoint { get; }

    /// <summary>
    /// Descriptors this listener's connections may hold at once, counted from accept (before TLS, before Kestrel has
    /// even scheduled the connection) to close: the cap plus room for connections accepted but not yet admitted or
    /// evicted but not yet closed, which pile up when the thread pool lags behind a flood.
    /// </summary>
    public int DescriptorCeiling => _limits.DescriptorCeiling;

    public ListenerLimits Limits => _limits;

    /// <summary>Connections open now.</summary>
    public int OpenConnections => _open.Count;

    /// <summary>The connection middleware: <c>listen.Use(guard.Middleware)</c>, before <c>UseHttps</c>.</summary>
    public Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => connection => OnConnectionAsync(connection, next);

    /// <summary>
    /// On a TLS listener, <c>listen.Use(guard.AfterTls)</c> right after <c>UseHttps</c>: Kestrel calls it only once a
    /// handshake has completed, which starts the idle clock and tells a failed handshake from a completed one.
    /// </summary>
    public Func<ConnectionDelegate, ConnectionDelegate> AfterTls => next => connection =>
    {
        if (connection.Items.TryGetValue(ItemKey, out var value) && value is (TrackedConnection tracked, TimeProvider time))
        {
            tracked.HandshakeCompleted(time.GetTimestamp());
        }

        return next(connection);
    };

    /// <summary>HTTP middleware marking requests in flight on guarded connections; a no-op on others (Unix sockets).</summary>
    public static async Task TrackRequestAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items is null || !items.TryGetValue(ItemKey, out var value) || value is not (TrackedConnection tracked, TimeProvider time))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        tracked.RequestStarted(time.GetTimestamp());
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            tracked.RequestEnded(time.GetTimestamp());
        }
    }

    public void Dispose() => _sweep.Dispose();

    private async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var tracked = new TrackedConnection(Interlocked.Increment(ref _nextId), connection, _time.GetTimestamp(), _tls);
        TrackedConnection? victim = null;
        var admitted = true;
        lock (_admit)
        {
            if (_open.Count >= _limits.MaxConnections)
            {
                victim = LongestIdle();
                if (victim is null)
                {
                    admitted = false;
                }
                else
                {
                    _open.TryRemove(victim.Id, out _);
                }
            }

            if (admitted)
            {
                _open[tracked.Id] = tracked;
            }
        }

        if (!admitted)
        {
            Closed("refused");
            connection.Abort(new ConnectionAbortedException($"listener {_listener} is at its cap of {_limits.MaxConnections} busy connections"));
            ReleaseDescriptor(connection);
            return;
        }

        if (victim is not null)
        {
            Closed("evicted");
            victim.Close($"evicted: listener {_listener} is at its cap of {_limits.MaxConnections} connections");
        }

        connection.Items[ItemKey] = (tracked, _time);
        _openGauge.Set(_open.Count, _listener);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            _open.TryRemove(tracked.Id, out _);
            _openGauge.Set(_open.Count, _listener);
            ReleaseDescriptor(connection);
            if (tracked.Handshaking)
            {
                _handshakeFailures.Inc(_listener);
                Interlocked.Increment(ref _handshakeFailuresSinceLog);
                FlushLog(_time.GetTimestamp());
            }
        }
    }

    /// <summary>Called by the transport at accept: false when the listener holds its descriptor ceiling (the connection is closed there and then).</summary>
    internal bool TryTakeDescriptor(ConnectionContext connection)
    {
        while (true)
        {
            var held = Interlocked.Read(ref _descriptors);
            if (held >= _limits.DescriptorCeiling)
            {
                Closed("refused");
                return false;
            }

            if (Interlocked.CompareExchange(ref _descriptors, held + 1, held) == held)
            {
                connection.Items[DescriptorKey] = true;
                return true;
            }
        }
    }

    private void ReleaseDescriptor(ConnectionContext connection)
    {
        if (connection.Items.Remove(DescriptorKey))
        {
            Interlocked.Decrement(ref _descriptors);
        }
    }

    /// <summary>
    /// The connection to evict: the longest-idle one that never carried a request (held, not used), else the
    /// longest-idle one. A flood of held connections thus evicts itself before a scraper's keep-alive connection.
    /// </summary>
    private TrackedConnection? LongestIdle()
    {
        TrackedConnection? unused = null;
        TrackedConnection? oldest = null;
        foreach (var candidate in _open.Values)
        {
            if (!candidate.IsIdle)
            {
                continue;
            }

            if (!candidate.Served && (unused is null || candidate.LastActivity < unused.LastActivity))
            {
                unused = candidate;
            }

            if (oldest is null || candidate.LastActivity < oldest.LastActivity)
            {
                oldest = candidate;
            }
        }

        return unused ?? oldest;
    }

    private void Sweep()
    {
        var now = _time.GetTimestamp();
        foreach (var candidate in _open.Values)
        {
            if (candidate.IsIdle && !candidate.Handshaking && _time.GetElapsedTime(candidate.LastActivity, now) >= _limits.IdleTimeout && _open.TryRemove(candidate.Id, out _))
            {
                // Counted before the close, so whoever sees the close also sees the count.
                _closed.Inc(_listener, "idle");
                candidate.Close($"idle for {_limits.IdleTimeout.TotalSeconds:0.###} s");
            }
        }

        _openGauge.Set(_open.Count, _listener);
        FlushLog(now);
    }

    private void Closed(string reason)
    {
        _closed.Inc(_listener, reason);
        Interlocked.Increment(ref reason == "refused" ? ref _refusedSinceLog : ref _evictedSinceLog);
        FlushLog(_time.GetTimestamp());
    }

    private void FlushLog(long now)
    {
        var last = Interlocked.Read(ref _lastLog);
        if (_time.GetElapsedTime(last, now) < LogInterval || Interlocked.CompareExchange(ref _lastLog, now, last) != last)
        {
            return;
        }

        var seconds = _time.GetElapsedTime(last, now).TotalSeconds;
        var evicted = Interlocked.Exchange(ref _evictedSinceLog, 0);
        var refused = Interlocked.Exchange(ref _refusedSinceLog, 0);
        if (evicted + refused > 0)
        {
            LogAtCap(_listener, _limits.MaxConnections, evicted, refused, seconds);
        }

        var failures = Interlocked.Exchange(ref _handshakeFailuresSinceLog, 0);
        if (failures > 0)
        {
            LogHandshakeFailures(_listener, failures, seconds);
        }
    }
}
