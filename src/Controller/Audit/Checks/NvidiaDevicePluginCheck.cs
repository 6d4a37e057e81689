namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// The NVIDIA device plugin next to SecureDra (path B4): it hands the same GPUs out as
/// <c>nvidia.com/gpu</c>, without SecureDra's scrub. Found as its DaemonSet (name or image), or as
/// <c>allocatable["nvidia.com/gpu"]</c> on a node where SecureDra publishes devices.
/// </summary>
public sealed class NvidiaDevicePluginCheck : IAuditCheck
{
    public string Id => AuditChecks.NvidiaDevicePlugin;

    public IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var ds in snapshot.DaemonSets)
        {
            var images = JsonAccess.Objects(ds, "spec", "template", "spec", "containers").Select(c => JsonAccess.String(c, "image") ?? "");
            if (JsonAccess.String(ds, "metadata", "name") == "nvidia-device-plugin-daemonset" || images.Any(i => i.Contains("k8s-device-plugin", StringComparison.Ordinal)))
            {
                yield return new AuditFinding(Id, AuditSeverity.High, AuditObjectRef.Of(ds),
                    "the NVIDIA device plugin runs: it hands the GPUs SecureDra manages out again as nvidia.com/gpu, without a VRAM scrub between tenants; set GPU Operator devicePlugin.enabled=false (or keep it off SecureDra's nodes)");
            }
        }

        var ourNodes = snapshot.ResourceSlices
            .Where(s => JsonAccess.String(s, "spec", "driver") == options.DriverName)
            .Select(s => JsonAccess.String(s, "spec", "nodeName"))
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
        foreach (var node in snapshot.Nodes)
        {
            var name = JsonAccess.String(node, "metadata", "name") ?? "";
            var gpus = JsonAccess.String(node, "status", "allocatable", "nvidia.com/gpu");
            if (ourNodes.Contains(name) && gpus is not null && gpus != "0")
            {
                yield return new AuditFinding(Id, AuditSeverity.High, AuditObjectRef.Of(node),
                    $"node {name} offers allocatable nvidia.com/gpu={gpus} while SecureDra publishes its GPUs: the same devices are reachable without a ResourceClaim; disable the device plugin on this node");
            }
        }
    }
}
