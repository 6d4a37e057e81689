namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// The plugin's side of the MIG manager (<c>--mig-manager-socket</c>). <see cref="CallTimeout"/>: deadline of every
/// call but a scrub; <see cref="ScrubTimeout"/>: deadline of a scrub (the manager's worker deadline plus room).
/// <see cref="StartupGrace"/>: until the manager has answered once, an unreachable socket is retried this long (the two
/// containers of the pod start together; the plugin's MIG set-up must not lose that race). <see cref="CheckInterval"/>:
/// how often the monitor pings it; MIG devices are withdrawn from the first failed ping until one succeeds.
/// </summary>
public sealed record MigManagerClientOptions
{
    public string SocketPath { get; init; } = "";

    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan ScrubTimeout { get; init; } = TimeSpan.FromMinutes(6);

    public TimeSpan StartupGrace { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and its limit.</summary>
    public void Validate()
    {
        new MigManagerOptions { SocketPath = SocketPath }.Validate();
        if (CallTimeout <= TimeSpan.Zero || ScrubTimeout <= TimeSpan.Zero || StartupGrace < TimeSpan.Zero || CheckInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("MIG manager client: call and scrub timeouts and the check interval must be positive, the start-up grace not negative");
        }
    }
}
