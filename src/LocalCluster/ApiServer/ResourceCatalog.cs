namespace SecureDra.LocalCluster.ApiServer;

/// <summary>The table of resources the local API server serves for one Kubernetes version.</summary>
public sealed class ResourceCatalog
{
    public const string ResourceGroup = "resource.k8s.io";

    private readonly Dictionary<(string Group, string Version, string Plural), ResourceType> _byPath = [];

    public ResourceCatalog(KubernetesVersionProfile profile, bool deviceTaintRules = false)
    {
        ArgumentNullException.ThrowIfNull(profile);
        Profile = profile;
        var dra = profile.ResourceApiVersions;
        Types =
        [
            new("", ["v1"], "namespaces", "namespace", "Namespace", false, ["ns"], HasStatusSubresource: true),
            new("", ["v1"], "nodes", "node", "Node", false, ["no"], HasStatusSubresource: true),
            new("", ["v1"], "events", "event", "Event", true, ["ev"]),
            new("", ["v1"], "resourcequotas", "resourcequota", "ResourceQuota", true, ["quota"], HasStatusSubresource: true),
            new("", ["v1"], "serviceaccounts", "serviceaccount", "ServiceAccount", true, ["sa"]),
            new("coordination.k8s.io", ["v1"], "leases", "lease", "Lease", true, []),
            new("events.k8s.io", ["v1"], "events", "event", "Event", true, ["ev"]),
            new("", ["v1"], "services", "service", "Service", true, ["svc"], HasStatusSubresource: true),
            new("apps", ["v1"], "daemonsets", "daemonset", "DaemonSet", true, ["ds"], HasStatusSubresource: true),
            // Stored, not run: served so the rendered chart applies whole and the live audit sees what `audit --manifests` sees.
            new("apps", ["v1"], "deployments", "deployment", "Deployment", true, ["deploy"], HasStatusSubresource: true),
            new("policy", ["v1"], "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, ["pdb"], HasStatusSubresource: true),
            new("networking.k8s.io", ["v1"], "networkpolicies", "networkpolicy", "NetworkPolicy", true, ["netpol"]),
            new("rbac.authorization.k8s.io", ["v1"], "clusterroles", "clusterrole", "ClusterRole", false, []),
            new("rbac.authorization.k8s.io", ["v1"], "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, []),
            new("rbac.authorization.k8s.io", ["v1"], "roles", "role", "Role", true, []),
            new("rbac.authorization.k8s.io", ["v1"], "rolebindings", "rolebinding", "RoleBinding", true, []),
            new("admissionregistration.k8s.io", ["v1"], "validatingadmissionpolicies", "validatingadmissionpolicy", "ValidatingAdmissionPolicy", false, [], HasStatusSubresource: true),
            new("admissionregistration.k8s.io", ["v1"], "validatingadmissionpolicybindings", "validatingadmissionpolicybinding", "ValidatingAdmissionPolicyBinding", false, []),
            new("admissionregistration.k8s.io", ["v1"], "validatingwebhookconfigurations", "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", false, []),
            new(ResourceGroup, dra, "resourceslices", "resourceslice", "ResourceSlice", false, []),
            new(ResourceGroup, dra, "resourceclaims", "resourceclaim", "ResourceClaim", true, [], HasStatusSubresource: true),
            new(ResourceGroup, dra, "resourceclaimtemplates", "resourceclaimtemplate", "ResourceClaimTemplate", true, []),
            new(ResourceGroup, dra, "deviceclasses", "deviceclass", "DeviceClass", false, []),
        ];
        if (deviceTaintRules && profile.DeviceTaintRuleVersion is { } taintRuleVersion)
        {
            Types = [.. Types, new(ResourceGroup, [taintRuleVersion], "devicetaintrules", "devicetaintrule", "DeviceTaintRule", false, [], HasStatusSubresource: profile.DeviceTaintRuleHasStatus)];
        }

        foreach (var type in Types)
        {
            foreach (var version in type.Versions)
            {
                _byPath[(type.Group, version, type.Plural)] = type;
            }
        }
    }

    public KubernetesVersionProfile Profile { get; }

    public IReadOnlyList<ResourceType> Types { get; }

    /// <summary>
    /// Groups in discovery order with their versions (preferred first): the union over the group's types, so an
    /// alpha version that carries only DeviceTaintRule (v1alpha3) is listed after the versions of the other types.
    /// </summary>
    public IEnumerable<(string Group, IReadOnlyList<string> Versions)> Groups =>
        Types.Where(t => t.Group.Length > 0)
            .GroupBy(t => t.Group)
            .Select(g => (g.Key, (IReadOnlyList<string>)[.. g.SelectMany(t => t.Versions).Distinct(StringComparer.Ordinal)]));

    public ResourceType? Find(string group, string version, string plural) =>
        _byPath.TryGetValue((group, version, plural), out var type) ? type : null;

    public bool ServesGroupVersion(string group, string version) =>
        Types.Any(t => t.Group == group && t.Versions.Contains(version));

    public IEnumerable<ResourceType> InGroupVersion(string group, string version) =>
        Types.Where(t => t.Group == group && t.Versions.Contains(version));
}
