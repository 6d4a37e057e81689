using System.Text.Json.Nodes;

namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// Which namespaces are tenants for the paths-around-DRA checks: labelled for the tenant pod policy,
/// or holding ResourceClaims; never the driver's own namespace nor the GPU Operator's.
/// </summary>
internal static class TenantNamespaces
{
    public static HashSet<string> Of(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ns in snapshot.Namespaces)
        {
            if (JsonAccess.String(ns, "metadata", "labels", options.TenantNamespaceLabel) == "true" && JsonAccess.String(ns, "metadata", "name") is { } name)
            {
                names.Add(name);
            }
        }

        foreach (var claim in snapshot.ResourceClaims)
        {
            names.Add(JsonAccess.String(claim, "metadata", "namespace") ?? "default");
        }

        names.Remove(options.Namespace);
        names.ExceptWith(options.GpuOperatorNamespaces);
        return names;
    }

    /// <summary>The pod spec of a Pod or of a workload's template.</summary>
    public static JsonObject? PodSpec(JsonObject source) =>
        (JsonAccess.String(source, "kind") == "Pod" ? JsonAccess.Node(source, "spec") : JsonAccess.Node(source, "spec", "template", "spec")) as JsonObject;
}
