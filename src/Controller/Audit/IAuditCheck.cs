namespace SecureDra.Controller.Audit;

/// <summary>One hardening rule over a snapshot. Pure: no I/O, no clock.</summary>
public interface IAuditCheck
{
    string Id { get; }

    IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options);
}
