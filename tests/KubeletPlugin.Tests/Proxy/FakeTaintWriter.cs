using System.Collections.Concurrent;
using SecureDra.Kube.Taints;

namespace SecureDra.KubeletPlugin.Tests.Proxy;

/// <summary>Records the DeviceTaintRules the proxy would have on the API server.</summary>
public sealed class FakeTaintWriter : IDeviceTaintRuleWriter
{
    public ConcurrentDictionary<DeviceTaintRuleTarget, string> Rules { get; } = new();
    public string? Served { get; set; } = "v1beta2";

    public Task<DeviceTaintRuleSupport> DiscoverAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new DeviceTaintRuleSupport(Served, Served is null ? "not served" : "served"));

    public Task<DeviceTaintRuleResult> ApplyAsync(DeviceTaintRuleTarget target, string taintKey, string reason, CancellationToken cancellationToken)
    {
        Rules[target] = taintKey;
        return Task.FromResult(new DeviceTaintRuleResult(DeviceTaintRuleOutcome.Applied, "rule-" + target.Device, Served, "applied"));
    }

    public Task<DeviceTaintRuleResult> RemoveAsync(DeviceTaintRuleTarget target, CancellationToken cancellationToken)
    {
        Rules.TryRemove(target, out _);
        return Task.FromResult(new DeviceTaintRuleResult(DeviceTaintRuleOutcome.Removed, "rule-" + target.Device, Served, "removed"));
    }
}
