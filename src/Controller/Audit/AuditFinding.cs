namespace SecureDra.Controller.Audit;

/// <summary>One hardening gap: which check found it, how bad it is, on which object, and what to change.</summary>
public sealed record AuditFinding(string Check, AuditSeverity Severity, AuditObjectRef Object, string Message);
