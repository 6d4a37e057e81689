using System.Text;
using System.Text.Json.Nodes;
using SecureDra.Api.Validation;

namespace SecureDra.Fuzz.Oracles;

/// <summary>
/// Finds this driver's opaque configs in a ResourceClaim, ResourceClaimTemplate or DeviceClass by the
/// documented locations, and holds each to <see cref="GpuConfigReference"/>: the oracle for every path that
/// ends in "allowed" (manifest validation, admission review).
/// </summary>
public static class OpaqueConfigs
{
    public const string Driver = "gpu.nvidia.com";

    /// <summary>Null when every config for <see cref="Driver"/> in <paramref name="resource"/> is valid, else why not.</summary>
    public static string? FirstInvalid(JsonObject resource, GpuConfigLimits limits)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var kind = resource["kind"] is JsonValue k && k.TryGetValue<string>(out var text) ? text : null;
        var (segments, origin) = kind switch
        {
            "ResourceClaim" => (new[] { "spec", "devices", "config" }, ConfigOrigin.Claim),
            "ResourceClaimTemplate" => (new[] { "spec", "spec", "devices", "config" }, ConfigOrigin.Claim),
            "DeviceClass" => (new[] { "spec", "config" }, ConfigOrigin.DeviceClass),
            _ => (Array.Empty<string>(), ConfigOrigin.Claim),
        };
        if (segments.Length == 0)
        {
            return null;
        }

        JsonNode? node = resource;
        foreach (var segment in segments)
        {
            node = (node as JsonObject)?[segment];
        }

        if (node is not JsonArray configs)
        {
            return null;
        }

        for (var i = 0; i < configs.Count; i++)
        {
            if (configs[i] is JsonObject entry && entry["opaque"] is JsonObject opaque
                && opaque["driver"] is JsonValue driver && driver.TryGetValue<string>(out var name) && name == Driver)
            {
                var parameters = opaque["parameters"]?.ToJsonString() ?? "null";
                if (GpuConfigReference.WhyInvalid(Encoding.UTF8.GetBytes(parameters), origin, limits, out _) is { } why)
                {
                    return $"{string.Join('.', segments)}[{i}]: {why}";
                }
            }
        }

        return null;
    }
}
