namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// Tenant namespaces must enforce Pod Security baseline or restricted (paths B5, B7): without it a
/// privileged container, CAP_SYS_ADMIN or hostPID reaches every GPU of its node.
/// </summary>
public sealed class TenantPodSecurityCheck : IAuditCheck
{
    public string Id => AuditChecks.TenantPodSecurity;

    public IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        var tenants = TenantNamespaces.Of(snapshot, options);
        foreach (var ns in snapshot.Namespaces)
        {
            var name = JsonAccess.String(ns, "metadata", "name") ?? "";
            if (!tenants.Contains(name))
            {
                continue;
            }

            var enforce = JsonAccess.String(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce");
            if (enforce is not ("baseline" or "restricted"))
            {
                yield return new AuditFinding(Id, AuditSeverity.High, AuditObjectRef.Of(ns),
                    $"tenant namespace {name} enforces Pod Security {(enforce is null ? "nothing" : $"\"{enforce}\"")}: privileged pods, added capabilities and hostPID reach every GPU of a node; label it pod-security.kubernetes.io/enforce=baseline or restricted");
            }
        }
    }
}
