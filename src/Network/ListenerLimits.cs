namespace SecureDra.Network;

/// <summary>
/// Connection bounds of one TCP listener. Every TCP listener gets its own (issue 11: one server-wide ten-year
/// keep-alive, meant for the kubelet's Unix-socket gRPC connection, let idle TCP connections pile up until the
/// process ran out of descriptors).
/// </summary>
public sealed record ListenerLimits
{
    /// <summary>Connections open at once. At the cap a new connection evicts the longest-idle one, or is refused if none is idle.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>A connection with no request in flight for this long is closed (TLS handshake and slow headers included).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Descriptors the listener may hold from accept to close: the cap plus a quarter (at least 32) for connections
    /// accepted but not yet admitted, or evicted but not yet closed, which pile up while the thread pool lags behind a
    /// connection flood. This, not the cap, is what the descriptor budget counts.
    /// </summary>
    public int DescriptorCeiling => MaxConnections + Math.Max(32, MaxConnections / 4);

    /// <summary>Checks the values; null when valid, else one line naming <paramref name="flagPrefix"/> flags and the bound.</summary>
    public string? Validate(string maxConnectionsFlag, string idleTimeoutFlag)
    {
        if (MaxConnections < 1 || MaxConnections > 1_000_000)
        {
            return $"{maxConnectionsFlag}: {MaxConnections} is not between 1 and 1000000";
        }

        if (IdleTimeout < TimeSpan.FromMilliseconds(100) || IdleTimeout > TimeSpan.FromHours(1))
        {
            return $"{idleTimeoutFlag}: {IdleTimeout} is not between 100ms and 1h";
        }

        return null;
    }
}
