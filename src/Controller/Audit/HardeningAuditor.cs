using SecureDra.Controller.Audit.Checks;

namespace SecureDra.Controller.Audit;

/// <summary>Runs every hardening check over one snapshot. Pure, so a manifests directory and a live cluster get the same verdict.</summary>
public sealed class HardeningAuditor(HardeningAuditOptions options, IReadOnlyList<IAuditCheck> checks)
{
    public HardeningAuditor(HardeningAuditOptions options)
        : this(options, DefaultChecks())
    {
    }

    public HardeningAuditOptions Options { get; } = options;

    public static IReadOnlyList<IAuditCheck> DefaultChecks() =>
    [
        new DeviceClassResetPolicyCheck(),
        new AdmissionPolicyCheck(),
        new AdmissionWebhookCheck(),
        new ClaimQuotaCheck(),
        new ServiceAccountRbacCheck(),
        new PluginDaemonSetCheck(),
        new NvidiaDevicePluginCheck(),
        new NvidiaRuntimeClassCheck(),
        new TenantPodSecurityCheck(),
        new GpuOperatorClusterPolicyCheck(),
        new ConfidentialComputeDevToolsCheck(),
    ];

    public IReadOnlyList<AuditFinding> Audit(ClusterSnapshot snapshot) =>
        [.. checks.SelectMany(c => c.Run(snapshot, Options))
            .OrderByDescending(f => f.Severity)
            .ThenBy(f => f.Check, StringComparer.Ordinal)
            .ThenBy(f => f.Object.ToString(), StringComparer.Ordinal)];
}
