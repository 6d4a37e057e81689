using System.Text.Json.Nodes;
using SecureDra.Api;

namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// A DeviceClass that selects this driver must pin <c>resetPolicy: ZeroVRAMOnRelease</c> in its own opaque config,
/// so a device handed out through it is scrubbed before reuse whatever the claim says (invariant 1).
/// </summary>
public sealed class DeviceClassResetPolicyCheck : IAuditCheck
{
    public string Id => AuditChecks.DeviceClassResetPolicy;

    public IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        if (options.ProxyMode)
        {
            // The vendor decodes the driver's configs and would reject SecureDra's GpuConfig; the proxy scrubs every
            // GPU on release whatever a class says, so there is nothing to pin.
            yield break;
        }

        foreach (var deviceClass in snapshot.DeviceClasses)
        {
            var configs = JsonAccess.Objects(deviceClass, "spec", "config").ToList();
            var driverConfigs = configs
                .Select((config, index) => (Index: index, Opaque: JsonAccess.Node(config, "opaque") as JsonObject))
                .Where(c => c.Opaque is not null && JsonAccess.String(c.Opaque, "driver") == options.DriverName)
                .ToList();
            var selectsDriver = driverConfigs.Count > 0 || JsonAccess.Objects(deviceClass, "spec", "selectors")
                .Any(s => JsonAccess.String(s, "cel", "expression")?.Contains(options.DriverName, StringComparison.Ordinal) == true);
            if (!selectsDriver)
            {
                continue;
            }

            var target = AuditObjectRef.Of(deviceClass);
            var pinned = false;
            foreach (var (index, opaque) in driverConfigs)
            {
                var policy = JsonAccess.String(opaque, "parameters", "resetPolicy");
                if (policy is null)
                {
                    continue;
                }

                if (policy == DriverConstants.ZeroVramOnRelease)
                {
                    pinned = true;
                }
                else
                {
                    yield return new AuditFinding(Id, AuditSeverity.Critical, target,
                        $"spec.config[{index}].opaque.parameters.resetPolicy is '{policy}': devices of driver {options.DriverName} handed out through this class are not scrubbed before reuse; set it to {DriverConstants.ZeroVramOnRelease}");
                }
            }

            if (!pinned && driverConfigs.All(c => JsonAccess.String(c.Opaque, "parameters", "resetPolicy") is null))
            {
                yield return new AuditFinding(Id, AuditSeverity.High, target,
                    $"selects driver {options.DriverName} but pins no resetPolicy: add spec.config[].opaque {{driver: {options.DriverName}, parameters: {{apiVersion: {DriverConstants.ConfigApiVersion}, kind: {DriverConstants.GpuConfigKind}, resetPolicy: {DriverConstants.ZeroVramOnRelease}}}}}");
            }
        }
    }
}
