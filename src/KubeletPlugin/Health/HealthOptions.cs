namespace SecureDra.KubeletPlugin.Health;

/// <summary>Health-stream and health-check settings.</summary>
public sealed record HealthOptions
{
    /// <summary>The kubelet marks a device Unknown when not re-reported within 30 s; resend well inside that.</summary>
    public TimeSpan ResendInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Sent as health_check_timeout_seconds (field 4, kubelet 1.35+); older kubelets ignore it.</summary>
    public int HealthCheckTimeoutSeconds { get; init; } = 30;

    /// <summary>Xids that make a device unhealthy; null means <see cref="FatalXidCatalog.DefaultFatalXids"/>.</summary>
    public IReadOnlyList<int>? FatalXids { get; init; }

    /// <summary>First wait before an unhealthy, unassigned GPU gets a recovery scrub + health check; doubles up to <see cref="RecoveryMax"/>.</summary>
    public TimeSpan RecoveryInitial { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan RecoveryMax { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>A recovery scrub on a hung GPU must not stall withdrawals of the other devices.</summary>
    public TimeSpan RecoveryScrubTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long one pass waits for a withdrawal to reach the API server before it moves on (the publisher keeps retrying).</summary>
    public TimeSpan PublishWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting and its limit.</summary>
    public void Validate()
    {
        // The kubelet's staleness timeout is HealthCheckTimeoutSeconds (30 s by default): a resend must come well inside it.
        if (ResendInterval < TimeSpan.FromMilliseconds(10) || ResendInterval.TotalSeconds > HealthCheckTimeoutSeconds / 2.0)
        {
            throw new ArgumentException($"--health-resend-interval: must be from 10ms to half the health check timeout ({HealthCheckTimeoutSeconds / 2.0} s), got {ResendInterval}");
        }

        if (HealthCheckTimeoutSeconds is < 1 or > 3600)
        {
            throw new ArgumentException($"health check timeout: must be from 1 to 3600 s, got {HealthCheckTimeoutSeconds}");
        }

        if (RecoveryInitial < TimeSpan.FromMilliseconds(10) || RecoveryInitial > RecoveryMax)
        {
            throw new ArgumentException($"--health-recovery-initial: must be from 10ms to the recovery maximum ({RecoveryMax}), got {RecoveryInitial}");
        }

        if (RecoveryScrubTimeout <= TimeSpan.Zero || PublishWait <= TimeSpan.Zero)
        {
            throw new ArgumentException("health recovery scrub timeout and publish wait must be positive");
        }
    }
}
