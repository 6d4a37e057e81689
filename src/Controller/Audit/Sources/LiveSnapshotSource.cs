using System.Text.Json.Nodes;
using SecureDra.Kube.Client;

namespace SecureDra.Controller.Audit.Sources;

/// <summary>
/// Lists the audited objects from a live cluster. The resource.k8s.io version is negotiated through discovery
/// unless given. A resource the server does not serve (404) reads as empty; any other error fails the audit,
/// because an audit that silently skipped what it could not read would report a false "clean".
/// </summary>
public sealed class LiveSnapshotSource(IKubeApiClient client, HardeningAuditOptions options, string? resourceApiVersion = null) : ISnapshotSource
{
    public async Task<ClusterSnapshot> LoadAsync(CancellationToken cancellationToken)
    {
        var version = resourceApiVersion ?? await ResourceApiDiscovery.NegotiateAsync(client, cancellationToken).ConfigureAwait(false);
        const string Admission = "admissionregistration.k8s.io";
        const string Rbac = "rbac.authorization.k8s.io";
        return new ClusterSnapshot
        {
            DeviceClasses = await ListAsync(KubeResource.DeviceClasses(version), "DeviceClass", null, cancellationToken).ConfigureAwait(false),
            ResourceClaims = await ListAsync(KubeResource.ResourceClaims(version), "ResourceClaim", null, cancellationToken).ConfigureAwait(false),
            Namespaces = await ListAsync(KubeResource.Namespaces, "Namespace", null, cancellationToken).ConfigureAwait(false),
            ResourceQuotas = await ListAsync(new KubeResource("", "v1", "resourcequotas", true), "ResourceQuota", null, cancellationToken).ConfigureAwait(false),
            ValidatingAdmissionPolicies = await ListAsync(new KubeResource(Admission, "v1", "validatingadmissionpolicies", false), "ValidatingAdmissionPolicy", null, cancellationToken).ConfigureAwait(false),
            ValidatingAdmissionPolicyBindings = await ListAsync(new KubeResource(Admission, "v1", "validatingadmissionpolicybindings", false), "ValidatingAdmissionPolicyBinding", null, cancellationToken).ConfigureAwait(false),
            ValidatingWebhookConfigurations = await ListAsync(new KubeResource(Admission, "v1", "validatingwebhookconfigurations", false), "ValidatingWebhookConfiguration", null, cancellationToken).ConfigureAwait(false),
            ClusterRoles = await ListAsync(new KubeResource(Rbac, "v1", "clusterroles", false), "ClusterRole", null, cancellationToken).ConfigureAwait(false),
            Roles = await ListAsync(new KubeResource(Rbac, "v1", "roles", true), "Role", null, cancellationToken).ConfigureAwait(false),
            ClusterRoleBindings = await ListAsync(new KubeResource(Rbac, "v1", "clusterrolebindings", false), "ClusterRoleBinding", null, cancellationToken).ConfigureAwait(false),
            RoleBindings = await ListAsync(new KubeResource(Rbac, "v1", "rolebindings", true), "RoleBinding", null, cancellationToken).ConfigureAwait(false),
            // Only the driver's namespace: the controller's RBAC does not need cluster-wide DaemonSet reads.
            DaemonSets = await ListAsync(new KubeResource("apps", "v1", "daemonsets", true), "DaemonSet", options.Namespace, cancellationToken).ConfigureAwait(false),
            // Paths around DRA. Not listed live: pods (their specs may hold secrets), nodes and ResourceSlices
            // (the controller's role never lists them); audit a dump of those with --manifests.
            RuntimeClasses = await ListAsync(new KubeResource("node.k8s.io", "v1", "runtimeclasses", false), "RuntimeClass", null, cancellationToken).ConfigureAwait(false),
            ClusterPolicies = await ListAsync(new KubeResource("nvidia.com", "v1", "clusterpolicies", false), "ClusterPolicy", null, cancellationToken).ConfigureAwait(false),
        };
    }

    private async Task<IReadOnlyList<JsonObject>> ListAsync(KubeResource resource, string kind, string? @namespace, CancellationToken cancellationToken)
    {
        JsonObject list;
        try
        {
            list = await client.ListAsync(resource, @namespace, null, cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException e) when (e.IsNotFound)
        {
            return [];
        }

        var items = new List<JsonObject>();
        foreach (var item in JsonAccess.Objects(list, "items"))
        {
            // LIST items carry no kind/apiVersion; findings and events need both.
            item["kind"] ??= kind;
            item["apiVersion"] ??= resource.ApiVersion;
            items.Add(item);
        }

        return items;
    }
}
