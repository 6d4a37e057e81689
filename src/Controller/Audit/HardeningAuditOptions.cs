using SecureDra.Api;

namespace SecureDra.Controller.Audit;

/// <summary>
/// What the auditor expects the hardened install to look like. Defaults are the object names the Helm chart
/// (deploy/helm/securedra) renders with its default values into deploy/manifests; with another release prefix
/// the chart passes its real names to the controller as flags.
/// </summary>
public sealed record HardeningAuditOptions
{
    public string DriverName { get; init; } = DriverConstants.DefaultDriverName;

    /// <summary>The driver's own namespace (service accounts, DaemonSet, Lease).</summary>
    public string Namespace { get; init; } = "securedra-system";

    public string PluginServiceAccount { get; init; } = "securedra-kubelet-plugin";

    public string ControllerServiceAccount { get; init; } = "securedra-controller";

    public string ResourceSlicePolicyName { get; init; } = "securedra-resourceslices-node-scoped";

    /// <summary>
    /// The claim/template policies: the chart ships one per served resource.k8s.io version because the request
    /// shape differs (v1beta1 has no <c>exactly</c>). Together they must cover v1, v1beta2 and v1beta1.
    /// </summary>
    public IReadOnlyList<string> ClaimPolicyNames { get; init; } = ["securedra-claims-v1", "securedra-claims-v1beta2", "securedra-claims-v1beta1"];

    /// <summary>
    /// The policy that hardens pods in the driver's namespace (Pod Security must be <c>privileged</c> there for the
    /// plugin's hostPath volumes). Null: not audited.
    /// </summary>
    public string? PodHardeningPolicyName { get; init; } = "securedra-pod-hardening";

    /// <summary>
    /// The policy that lets only the control plane remove <c>resource.kubernetes.io/delete-protection</c> from a
    /// ResourceClaim (a claim deleted under a running container hands its GPU to the next tenant). Null: not audited.
    /// </summary>
    public string? ClaimDeleteProtectionPolicyName { get; init; } = "securedra-claim-delete-protection";

    /// <summary>Null: the webhook configuration is not audited (e.g. installs that rely on the VAP only).</summary>
    public string? WebhookConfigurationName { get; init; } = "securedra-claims";

    /// <summary>Roles (ClusterRole or Role names) the driver's service accounts may be bound to.</summary>
    public IReadOnlyList<string> AllowedRoles { get; init; } = ["securedra-kubelet-plugin", "securedra-controller", "securedra-controller-leader-election"];

    /// <summary>
    /// Proxy mode (chart <c>mode: proxy</c>): the node daemon is <c>securedra proxy</c> in front of the vendor's plugin.
    /// It must hold no ResourceSlice write (the vendor owns the slices), DeviceClasses carry no SecureDra config (the
    /// vendor would reject it), and its hostPaths are the kubelet's registry, its socket dir and <see cref="ProxyHostPaths"/>.
    /// </summary>
    public bool ProxyMode { get; init; }

    /// <summary>Proxy mode: the vendor's private registry and plugins dirs and the proxy's state dir (the chart's defaults).</summary>
    public IReadOnlyList<string> ProxyHostPaths { get; init; } = ["/var/lib/securedra/vendor/plugins_registry", "/var/lib/securedra/vendor/plugins", "/var/lib/securedra/proxy"];

    /// <summary>The hostPaths of the node daemon for the mode: registry and own socket dir, then CDI (plugin) or the proxy's dirs.</summary>
    public static IReadOnlyList<string> HostPathsFor(string driverName, bool proxyMode, IReadOnlyList<string> proxyHostPaths) =>
        proxyMode
            ? ["/var/lib/kubelet/plugins_registry", "/var/lib/kubelet/plugins/" + driverName, .. proxyHostPaths]
            : ["/var/lib/kubelet/plugins_registry", "/var/lib/kubelet/plugins/" + driverName, "/var/run/cdi"];

    /// <summary>hostPath directories the plugin may mount (or mount below): registrar, its own plugin dir, CDI.</summary>
    public IReadOnlyList<string> AllowedHostPaths { get; init; } = ["/var/lib/kubelet/plugins_registry", "/var/lib/kubelet/plugins/" + DriverConstants.DefaultDriverName, "/var/run/cdi"];

    /// <summary>
    /// hostPath directories the plugin may mount read-only, for its node checks of paths around DRA
    /// (toolkit, containerd, CRI-O, device-plugin socket, dpkg status). A writable mount of one is a finding.
    /// </summary>
    public IReadOnlyList<string> ReadOnlyHostPaths { get; init; } =
    [
        "/usr/local/nvidia/toolkit/.config/nvidia-container-runtime", "/etc/nvidia-container-runtime", "/etc/containerd",
        "/etc/crio/crio.conf.d", "/var/lib/kubelet/device-plugins", "/var/lib/dpkg",
    ];

    /// <summary>Namespaces whose pods may use the NVIDIA runtime (the GPU Operator's); never audited as tenants.</summary>
    public IReadOnlyList<string> GpuOperatorNamespaces { get; init; } = ["gpu-operator", "nvidia-gpu-operator", "kube-system"];

    /// <summary>The label that selects tenant namespaces for the tenant pod policy (as the chart's values).</summary>
    public string TenantNamespaceLabel { get; init; } = "securedra.io/gpu-tenant";

    public IReadOnlyList<string> ServiceAccounts => [PluginServiceAccount, ControllerServiceAccount];

    /// <summary>The resource.k8s.io versions the claim policies must cover between them.</summary>
    public static IReadOnlyList<string> ClaimApiVersions { get; } = ["v1", "v1beta2", "v1beta1"];

    /// <summary>The quota key every namespace with claims must cap.</summary>
    public const string ClaimQuotaKey = "count/resourceclaims.resource.k8s.io";
}
