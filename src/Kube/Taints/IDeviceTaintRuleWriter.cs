namespace SecureDra.Kube.Taints;

/// <summary>
/// Publishes a withdrawal without owning the ResourceSlices: a DeviceTaintRule with effect NoSchedule on one
/// {driver, pool, device}, named deterministically so a restarted writer finds its own rule. Where the API server
/// does not serve DeviceTaintRule the result says <see cref="DeviceTaintRuleOutcome.NotServed"/> and the caller
/// falls back to refusing the device itself.
/// </summary>
public interface IDeviceTaintRuleWriter
{
    /// <summary>Which version serves devicetaintrules, if any (cached; re-read after the server stops serving it).</summary>
    Task<DeviceTaintRuleSupport> DiscoverAsync(CancellationToken cancellationToken);

    /// <summary>Creates or rewrites the rule for <paramref name="target"/>; <paramref name="taintKey"/> is a qualified name, <paramref name="reason"/> free text kept in an annotation.</summary>
    Task<DeviceTaintRuleResult> ApplyAsync(DeviceTaintRuleTarget target, string taintKey, string reason, CancellationToken cancellationToken);

    /// <summary>Deletes the rule for <paramref name="target"/>; a missing rule is success.</summary>
    Task<DeviceTaintRuleResult> RemoveAsync(DeviceTaintRuleTarget target, CancellationToken cancellationToken);
}
