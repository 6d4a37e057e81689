namespace SecureDra.Controller.Audit;

/// <summary>How bad a finding is. Critical breaks an invariant outright (tenant VRAM exposure, cluster takeover).</summary>
public enum AuditSeverity
{
    Low,
    Medium,
    High,
    Critical,
}
