using System.Text.Json;
using SecureDra.Kube.Resources;

namespace SecureDra.Fuzz.Oracles;

/// <summary>What an accepted ResourceClaim or ResourceSlice model must look like, whatever JSON it came from.</summary>
public static class KubeModelFacts
{
    /// <summary>Null when the claim keeps every rule, else the first it breaks.</summary>
    public static string? ClaimViolation(ResourceClaimModel claim)
    {
        ArgumentNullException.ThrowIfNull(claim);
        IEnumerable<string?> strings = [claim.Namespace, claim.Name, claim.Uid, claim.ResourceVersion];
        foreach (var request in claim.Requests)
        {
            if (string.IsNullOrEmpty(request.Name))
            {
                return "a request without a name";
            }

            strings = strings.Concat([request.Name, request.DeviceClassName]).Concat(request.FirstAvailable.SelectMany(s => new[] { s.Name, s.DeviceClassName }));
        }

        var configs = claim.Config.Concat(claim.Allocation?.Config ?? []).ToList();
        foreach (var config in configs)
        {
            strings = strings.Concat(config.Requests).Concat([config.OpaqueDriver, config.Source]);
            if (config.OpaqueParametersJson is { } parameters && ParseError(parameters) is { } error)
            {
                return $"opaque parameters kept as text that is not JSON ({error})";
            }
        }

        foreach (var result in claim.Allocation?.Results ?? [])
        {
            if (new[] { result.Request, result.Driver, result.Pool, result.Device }.Any(string.IsNullOrEmpty))
            {
                return "an allocation result with an empty required field";
            }

            strings = strings.Concat([result.Request, result.Driver, result.Pool, result.Device, result.ShareId]);
        }

        return strings.Any(s => s is not null && JsonTreeFacts.HasLoneSurrogate(s)) ? "a string with a lone surrogate" : null;
    }

    /// <summary>Null when the slice keeps every rule, else the first it breaks.</summary>
    public static string? SliceViolation(ResourceSliceModel slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        if (string.IsNullOrEmpty(slice.Driver) || string.IsNullOrEmpty(slice.PoolName))
        {
            return "a slice without driver or pool name";
        }

        IEnumerable<string?> strings = [slice.Name, slice.ResourceVersion, slice.Driver, slice.NodeName, slice.PoolName, slice.GenerateName];
        if (slice.Owner is { } owner)
        {
            strings = strings.Concat([owner.ApiVersion, owner.Kind, owner.Name, owner.Uid]);
        }

        foreach (var device in slice.Devices)
        {
            if (string.IsNullOrEmpty(device.Name))
            {
                return "a device without a name";
            }

            foreach (var (key, value) in device.Attributes)
            {
                var set = (value.String is not null ? 1 : 0) + (value.Int is not null ? 1 : 0) + (value.Bool is not null ? 1 : 0) + (value.Version is not null ? 1 : 0);
                if (set != 1)
                {
                    return $"attribute {key} has {set} values set; exactly one of int, bool, string, version must be";
                }

                strings = strings.Concat([key, value.String, value.Version]);
            }

            strings = strings.Concat([device.Name]).Concat(device.Capacity.Keys).Concat(device.Capacity.Values)
                .Concat(device.Taints.SelectMany(t => new[] { t.Key, t.Value, t.Effect }));
        }

        return strings.Any(s => s is not null && JsonTreeFacts.HasLoneSurrogate(s)) ? "a string with a lone surrogate" : null;
    }

    private static string? ParseError(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 1000 });
            return null;
        }
        catch (JsonException ex)
        {
            return ex.Message;
        }
    }
}
