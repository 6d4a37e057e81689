using System.Text.Json.Nodes;
using SecureDra.Api;

namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// GPUs whose confidential-computing devtools mode is on, as the kubelet plugin publishes it
/// (<c>securedra.io/ccDevToolsMode=true</c> on the node's ResourceSlice devices): in devtools mode the GPU's CC
/// protections are relaxed so debuggers and profilers can look inside, which a production tenant boundary must not
/// allow. One finding per slice, naming its node and devices. ResourceSlices come from a dump (<c>--manifests</c>):
/// the controller's role does not list them.
/// </summary>
public sealed class ConfidentialComputeDevToolsCheck : IAuditCheck
{
    public string Id => AuditChecks.ConfidentialComputeDevTools;

    public IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var slice in snapshot.ResourceSlices.Where(s => JsonAccess.String(s, "spec", "driver") == options.DriverName))
        {
            var devices = JsonAccess.Objects(slice, "spec", "devices")
                .Where(DevToolsOn)
                .Select(d => JsonAccess.String(d, "name") ?? "?")
                .ToList();
            if (devices.Count == 0)
            {
                continue;
            }

            var node = JsonAccess.String(slice, "spec", "nodeName") ?? "?";
            yield return new AuditFinding(Id, AuditSeverity.High, AuditObjectRef.Of(slice),
                $"node {node}: confidential computing devtools mode is on for {string.Join(", ", devices.Take(8))}{(devices.Count > 8 ? $" and {devices.Count - 8} more" : "")}: the GPUs' memory protections are relaxed for debugging; set CC mode to on (not devtools) before tenants use them");
        }
    }

    /// <summary>resource.k8s.io/v1 and v1beta2 put attributes on the device, v1beta1 under <c>basic</c>.</summary>
    private static bool DevToolsOn(JsonObject device) =>
        JsonAccess.Bool(device, "attributes", ConfidentialComputeAttributeNames.DevToolsMode, "bool") == true ||
        JsonAccess.Bool(device, "basic", "attributes", ConfidentialComputeAttributeNames.DevToolsMode, "bool") == true;
}
