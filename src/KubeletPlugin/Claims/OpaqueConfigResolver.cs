using System.Text;
using SecureDra.Api.Config;
using SecureDra.Api.Validation;
using SecureDra.Kube.Resources;

namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// Picks this driver's opaque configs from <c>status.allocation.devices.config</c> and decides
/// which one applies to each allocated device: class configs first, then claim configs, the
/// later entry wins; a config naming "req" also applies to "req/sub"; an empty requests list
/// applies to all. Every config of this driver is decoded strictly, applicable or not, so a bad
/// config always fails the claim. Configs of other drivers are skipped.
/// </summary>
public sealed class OpaqueConfigResolver(IGpuConfigValidator validator, string driverName)
{
    public const string FromClass = "FromClass";

    public ResolvedConfigs Resolve(IReadOnlyList<ClaimConfig> allocationConfig, IReadOnlyList<AllocationResult> results)
    {
        ArgumentNullException.ThrowIfNull(allocationConfig);
        ArgumentNullException.ThrowIfNull(results);
        var ours = allocationConfig
            .Select((config, index) => (Config: config, Index: index))
            .Where(c => string.Equals(c.Config.OpaqueDriver, driverName, StringComparison.Ordinal))
            .ToList();

        // Stable order: class entries before claim entries, each in list order.
        var ordered = ours.Where(c => c.Config.Source == FromClass).Concat(ours.Where(c => c.Config.Source != FromClass)).ToList();

        var errors = new List<ValidationError>();
        var decoded = new List<(IReadOnlyList<string> Requests, GpuConfig Config)>(ordered.Count);
        foreach (var (config, index) in ordered)
        {
            var path = $"status.allocation.devices.config[{index}].opaque.parameters";
            var origin = config.Source == FromClass ? ConfigOrigin.DeviceClass : ConfigOrigin.Claim;
            var bytes = Encoding.UTF8.GetBytes(config.OpaqueParametersJson ?? "");
            var result = validator.Decode(bytes, path, origin);
            if (result.IsValid)
            {
                decoded.Add((config.Requests, result.Config!));
            }
            else
            {
                errors.AddRange(result.Errors.Count > 0 ? result.Errors : [new ValidationError(path, "rejected")]);
            }
        }

        var perResult = results
            .Select(r => (GpuConfig?)decoded.LastOrDefault(d => RequestNames.ConfigApplies(d.Requests, r.Request)).Config)
            .ToList();
        return new ResolvedConfigs(perResult, errors);
    }
}
