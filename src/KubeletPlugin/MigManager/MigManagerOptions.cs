namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// The MIG manager's listener (<c>securedra mig-manager</c>, docs/mig.md "Privilege"). <see cref="SocketPath"/>: the Unix
/// socket in the emptyDir the plugin container shares (mode 0600 after bind). <see cref="AllowedUid"/>: the only peer
/// user id (SO_PEERCRED) served; null = the manager's own uid. <see cref="MaxConnections"/>: connections held at once
/// (the plugin needs one; at the cap the longest-idle one is closed, and with all busy a new one is refused).
/// <see cref="CallTimeout"/>: the most any call but a scrub may take on this side; a scrub gets the scrubber's own
/// deadline. Requests over <see cref="MaxRequestBytes"/> are refused by gRPC before they are parsed.
/// </summary>
public sealed record MigManagerOptions
{
    /// <summary>The largest request the API has: a handful of scalars and one UUID. 4 KiB leaves room and nothing more.</summary>
    public const int MaxRequestBytes = 4096;

    /// <summary>The largest response: every profile with its placements, or every instance of a GPU (at most 64 each).</summary>
    public const int MaxResponseBytes = 256 * 1024;

    public const int MaxConnectionsLimit = 64;

    public string SocketPath { get; init; } = "";

    public uint? AllowedUid { get; init; }

    public int MaxConnections { get; init; } = 4;

    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and its limit.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(SocketPath) || !Path.IsPathFullyQualified(SocketPath))
        {
            throw new ArgumentException($"--mig-manager-socket: must be an absolute path, got \"{SocketPath}\"");
        }

        // sockaddr_un.sun_path is 108 bytes including the terminating NUL.
        if (System.Text.Encoding.UTF8.GetByteCount(SocketPath) > 107)
        {
            throw new ArgumentException($"--mig-manager-socket: must be at most 107 bytes (sockaddr_un), got {System.Text.Encoding.UTF8.GetByteCount(SocketPath)}");
        }

        if (MaxConnections < 1 || MaxConnections > MaxConnectionsLimit)
        {
            throw new ArgumentException($"--mig-manager-max-connections: must be from 1 to {MaxConnectionsLimit}, got {MaxConnections}");
        }

        if (IdleTimeout <= TimeSpan.Zero || CallTimeout <= TimeSpan.Zero || CallTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException("MIG manager idle timeout and call timeout must be positive, the call timeout at most 10 minutes");
        }
    }
}
