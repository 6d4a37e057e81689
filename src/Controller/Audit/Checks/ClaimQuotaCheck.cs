namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// Every namespace that holds ResourceClaims needs a ResourceQuota on <c>count/resourceclaims.resource.k8s.io</c>;
/// without one a tenant can create claims without bound and starve the scheduler and the API server.
/// </summary>
public sealed class ClaimQuotaCheck : IAuditCheck
{
    public string Id => AuditChecks.ClaimQuota;

    public IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var withClaims = snapshot.ResourceClaims
            .Select(c => JsonAccess.String(c, "metadata", "namespace") ?? "default")
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        foreach (var ns in withClaims)
        {
            var capped = snapshot.ResourceQuotas.Any(q =>
                (JsonAccess.String(q, "metadata", "namespace") ?? "default") == ns &&
                JsonAccess.Node(q, "spec", "hard", HardeningAuditOptions.ClaimQuotaKey) is not null);
            if (capped)
            {
                continue;
            }

            var nsObject = snapshot.Namespaces.FirstOrDefault(n => JsonAccess.String(n, "metadata", "name") == ns);
            var target = nsObject is null ? new AuditObjectRef("v1", "Namespace", null, ns) : AuditObjectRef.Of(nsObject);
            yield return new AuditFinding(Id, AuditSeverity.High, target,
                $"namespace {ns} has ResourceClaims but no ResourceQuota with spec.hard[{HardeningAuditOptions.ClaimQuotaKey}]");
        }
    }
}
