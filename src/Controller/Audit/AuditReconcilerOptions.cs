namespace SecureDra.Controller.Audit;

public sealed record AuditReconcilerOptions
{
    /// <summary>Between audit runs. Cluster hardening drifts slowly; each run LISTs a dozen resource types.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(5);
}
