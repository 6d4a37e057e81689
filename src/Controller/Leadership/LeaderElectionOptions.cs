namespace SecureDra.Controller.Leadership;

/// <summary>Lease-based leader election, with client-go's timings: 15 s lease, 10 s renew deadline, 2 s retry.</summary>
public sealed record LeaderElectionOptions
{
    public string Namespace { get; init; } = "securedra";

    public string LeaseName { get; init; } = "securedra-controller";

    /// <summary>Unique per process: pod name plus a random suffix, so a restarted pod is a new holder.</summary>
    public string Identity { get; init; } = $"{Environment.MachineName}_{Guid.NewGuid():N}";

    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A leader that cannot renew within this long steps down, before the lease expires for the others.</summary>
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);
}
