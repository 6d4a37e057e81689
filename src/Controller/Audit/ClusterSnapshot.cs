using System.Text.Json.Nodes;

namespace SecureDra.Controller.Audit;

/// <summary>The cluster objects the auditor looks at, from a live cluster or a directory of manifests.</summary>
public sealed record ClusterSnapshot
{
    public IReadOnlyList<JsonObject> DeviceClasses { get; init; } = [];
    public IReadOnlyList<JsonObject> ResourceClaims { get; init; } = [];
    public IReadOnlyList<JsonObject> Namespaces { get; init; } = [];
    public IReadOnlyList<JsonObject> ResourceQuotas { get; init; } = [];
    public IReadOnlyList<JsonObject> ValidatingAdmissionPolicies { get; init; } = [];
    public IReadOnlyList<JsonObject> ValidatingAdmissionPolicyBindings { get; init; } = [];
    public IReadOnlyList<JsonObject> ValidatingWebhookConfigurations { get; init; } = [];
    public IReadOnlyList<JsonObject> ClusterRoles { get; init; } = [];
    public IReadOnlyList<JsonObject> Roles { get; init; } = [];
    public IReadOnlyList<JsonObject> ClusterRoleBindings { get; init; } = [];
    public IReadOnlyList<JsonObject> RoleBindings { get; init; } = [];
    public IReadOnlyList<JsonObject> DaemonSets { get; init; } = [];

    // Paths around DRA (docs/hardening.md): where GPUs can be reached without a claim.
    public IReadOnlyList<JsonObject> Nodes { get; init; } = [];
    public IReadOnlyList<JsonObject> ResourceSlices { get; init; } = [];
    public IReadOnlyList<JsonObject> RuntimeClasses { get; init; } = [];

    /// <summary>The GPU Operator's nvidia.com/v1 ClusterPolicy objects.</summary>
    public IReadOnlyList<JsonObject> ClusterPolicies { get; init; } = [];

    /// <summary>Pods, and workloads with a pod template (Deployment, StatefulSet, ReplicaSet, Job): from manifests.</summary>
    public IReadOnlyList<JsonObject> PodSources { get; init; } = [];

    /// <summary>Sorts objects by kind (List objects are flattened); kinds the auditor does not read are dropped.</summary>
    public static ClusterSnapshot FromObjects(IEnumerable<JsonObject> objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var byKind = new Dictionary<string, List<JsonObject>>(StringComparer.Ordinal);
        foreach (var obj in Flatten(objects))
        {
            var kind = JsonAccess.String(obj, "kind");
            if (kind is null)
            {
                continue;
            }

            if (!byKind.TryGetValue(kind, out var list))
            {
                byKind[kind] = list = [];
            }

            list.Add(obj);
        }

        IReadOnlyList<JsonObject> Of(string kind) => byKind.TryGetValue(kind, out var list) ? list : [];
        return new ClusterSnapshot
        {
            DeviceClasses = Of("DeviceClass"),
            ResourceClaims = Of("ResourceClaim"),
            Namespaces = Of("Namespace"),
            ResourceQuotas = Of("ResourceQuota"),
            ValidatingAdmissionPolicies = Of("ValidatingAdmissionPolicy"),
            ValidatingAdmissionPolicyBindings = Of("ValidatingAdmissionPolicyBinding"),
            ValidatingWebhookConfigurations = Of("ValidatingWebhookConfiguration"),
            ClusterRoles = Of("ClusterRole"),
            Roles = Of("Role"),
            ClusterRoleBindings = Of("ClusterRoleBinding"),
            RoleBindings = Of("RoleBinding"),
            DaemonSets = Of("DaemonSet"),
            Nodes = Of("Node"),
            ResourceSlices = Of("ResourceSlice"),
            RuntimeClasses = Of("RuntimeClass"),
            ClusterPolicies = [.. Of("ClusterPolicy").Where(o => (JsonAccess.String(o, "apiVersion") ?? "").StartsWith("nvidia.com/", StringComparison.Ordinal))],
            PodSources = [.. new[] { "Pod", "Deployment", "StatefulSet", "ReplicaSet", "Job" }.SelectMany(Of)],
        };
    }

    private static IEnumerable<JsonObject> Flatten(IEnumerable<JsonObject> objects)
    {
        foreach (var obj in objects)
        {
            var kind = JsonAccess.String(obj, "kind");
            if (kind is not null && kind.EndsWith("List", StringComparison.Ordinal) && obj["items"] is JsonArray)
            {
                foreach (var item in JsonAccess.Objects(obj, "items"))
                {
                    yield return item;
                }
            }
            else
            {
                yield return obj;
            }
        }
    }
}
