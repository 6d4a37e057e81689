using SecureDra.Api;

namespace SecureDra.Controller.Audit;

/// <summary>What the auditor expects the hardened install to look like. Defaults match deploy/.</summary>
public sealed record HardeningAuditOptions
{
    public string DriverName { get; init; } = DriverConstants.DefaultDriverName;

    /// <summary>The driver's own namespace (service accounts, DaemonSet, Lease).</summary>
    public string Namespace { get; init; } = "securedra";

    public string PluginServiceAccount { get; init; } = "securedra-kubelet-plugin";

    public string ControllerServiceAccount { get; init; } = "securedra-controller";

    public string ResourceSlicePolicyName { get; init; } = "securedra-resourceslice-node-scope";

    public string ClaimPolicyName { get; init; } = "securedra-claim-policy";

    /// <summary>Null: the webhook configuration is not audited (e.g. installs that rely on the VAP only).</summary>
    public string? WebhookConfigurationName { get; init; } = "securedra-webhook";

    /// <summary>Roles (ClusterRole or Role names) the driver's service accounts may be bound to.</summary>
    public IReadOnlyList<string> AllowedRoles { get; init; } = ["securedra-kubelet-plugin", "securedra-controller", "securedra-controller-leader-election"];

    /// <summary>hostPath directories the plugin may mount (or mount below): registrar, its own plugin dir, CDI.</summary>
    public IReadOnlyList<string> AllowedHostPaths { get; init; } = ["/var/lib/kubelet/plugins_registry", "/var/lib/kubelet/plugins/" + DriverConstants.DefaultDriverName, "/var/run/cdi"];

    public IReadOnlyList<string> ServiceAccounts => [PluginServiceAccount, ControllerServiceAccount];

    /// <summary>The quota key every namespace with claims must cap.</summary>
    public const string ClaimQuotaKey = "count/resourceclaims.resource.k8s.io";
}
