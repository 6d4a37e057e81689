namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// RuntimeClasses whose handler is the NVIDIA runtime (path B1): with it, NVIDIA_VISIBLE_DEVICES=all
/// reaches every GPU of the node. A finding when no bound, denying admission policy looks at
/// <c>runtimeClassName</c>, and for every tenant pod (or workload) that uses one.
/// </summary>
public sealed class NvidiaRuntimeClassCheck : IAuditCheck
{
    /// <summary>The GPU Operator's RuntimeClass names, judged nvidia even when the object is not in the snapshot.</summary>
    public static readonly IReadOnlyList<string> KnownNames = ["nvidia", "nvidia-cdi", "nvidia-legacy"];

    public string Id => AuditChecks.NvidiaRuntimeClass;

    public IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        var nvidia = snapshot.RuntimeClasses
            .Where(rc => (JsonAccess.String(rc, "handler") ?? "").Contains("nvidia", StringComparison.OrdinalIgnoreCase))
            .ToList();
        var names = nvidia.Select(rc => JsonAccess.String(rc, "metadata", "name")).OfType<string>().Concat(KnownNames).ToHashSet(StringComparer.Ordinal);

        if (nvidia.Count > 0 && !RestrictedByPolicy(snapshot))
        {
            foreach (var rc in nvidia)
            {
                yield return new AuditFinding(Id, AuditSeverity.High, AuditObjectRef.Of(rc),
                    $"RuntimeClass {JsonAccess.String(rc, "metadata", "name")} runs the NVIDIA runtime and no bound, denying ValidatingAdmissionPolicy checks spec.runtimeClassName: any tenant pod can use it with NVIDIA_VISIBLE_DEVICES=all to reach every GPU; install the tenant pod policy (policy.tenantPods)");
            }
        }

        var tenants = TenantNamespaces.Of(snapshot, options);
        foreach (var source in snapshot.PodSources)
        {
            var ns = JsonAccess.String(source, "metadata", "namespace") ?? "default";
            var runtimeClass = TenantNamespaces.PodSpec(source) is { } spec ? JsonAccess.String(spec, "runtimeClassName") : null;
            if (runtimeClass is not null && names.Contains(runtimeClass) && tenants.Contains(ns))
            {
                yield return new AuditFinding(Id, AuditSeverity.High, AuditObjectRef.Of(source),
                    $"tenant workload in namespace {ns} uses RuntimeClass {runtimeClass} (the NVIDIA runtime): it can reach GPUs around DRA; request GPUs with a ResourceClaim instead");
            }
        }
    }

    private static bool RestrictedByPolicy(ClusterSnapshot snapshot) =>
        snapshot.ValidatingAdmissionPolicies.Any(p =>
            JsonAccess.Objects(p, "spec", "validations").Any(v => (JsonAccess.String(v, "expression") ?? "").Contains("runtimeClassName", StringComparison.Ordinal)) &&
            JsonAccess.Objects(p, "spec", "matchConstraints", "resourceRules").Any(r => JsonAccess.Strings(r, "resources").Contains("pods")) &&
            snapshot.ValidatingAdmissionPolicyBindings.Any(b =>
                JsonAccess.String(b, "spec", "policyName") == JsonAccess.String(p, "metadata", "name") &&
                JsonAccess.Strings(b, "spec", "validationActions").Contains("Deny")));
}
