namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// The GPU Operator's ClusterPolicy (nvidia.com/v1): the device plugin off (B4), CDI on, and the
/// toolkit told not to accept NVIDIA_VISIBLE_DEVICES from unprivileged containers (B1). The
/// operator's defaults are the opposite for the first and the last.
/// </summary>
public sealed class GpuOperatorClusterPolicyCheck : IAuditCheck
{
    public const string AcceptEnvvar = "ACCEPT_NVIDIA_VISIBLE_DEVICES_ENVVAR_WHEN_UNPRIVILEGED";

    public string Id => AuditChecks.GpuOperatorClusterPolicy;

    public IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        foreach (var policy in snapshot.ClusterPolicies)
        {
            var target = AuditObjectRef.Of(policy);
            if (JsonAccess.Bool(policy, "spec", "devicePlugin", "enabled") != false)
            {
                yield return new AuditFinding(Id, AuditSeverity.High, target,
                    "spec.devicePlugin.enabled is not false (the operator's default is true): the NVIDIA device plugin hands SecureDra's GPUs out again as nvidia.com/gpu; set devicePlugin.enabled=false");
            }

            if (JsonAccess.Bool(policy, "spec", "cdi", "enabled") != true)
            {
                yield return new AuditFinding(Id, AuditSeverity.Medium, target,
                    "spec.cdi.enabled is not true: on operator versions before 25.10 nvidia then stays the default runtime for every pod; set cdi.enabled=true");
            }

            var accept = JsonAccess.Objects(policy, "spec", "toolkit", "env")
                .Where(e => JsonAccess.String(e, "name") == AcceptEnvvar)
                .Select(e => JsonAccess.String(e, "value"))
                .LastOrDefault();
            if (!string.Equals(accept, "false", StringComparison.OrdinalIgnoreCase))
            {
                yield return new AuditFinding(Id, AuditSeverity.High, target,
                    $"spec.toolkit.env does not set {AcceptEnvvar}=false (the toolkit's default is true): any container the NVIDIA runtime runs can take every GPU with NVIDIA_VISIBLE_DEVICES=all");
            }
        }
    }
}
