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
}
