using System.Text.Json.Nodes;
using SecureDra.Kube.Client;

namespace SecureDra.Kube.Resources;

/// <summary>Reads the resource.k8s.io APIGroup discovery document and picks the version to speak.</summary>
public static class ResourceApiDiscovery
{
    public const string Path = "/apis/resource.k8s.io";

    /// <summary>The versions the group document lists (wire names), empty when the group is not served (404).</summary>
    public static async Task<IReadOnlyList<string>> ReadServedVersionsAsync(IKubeApiClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var document = await client.GetPathAsync(Path, cancellationToken).ConfigureAwait(false);
        return ServedVersions(document);
    }

    public static IReadOnlyList<string> ServedVersions(JsonNode? apiGroup)
    {
        var served = new List<string>();
        if (apiGroup is JsonObject group && group["versions"] is JsonArray versions)
        {
            foreach (var entry in versions)
            {
                if (entry is JsonObject v && v["version"] is JsonValue value && value.TryGetValue<string>(out var name) && !string.IsNullOrEmpty(name))
                {
                    served.Add(name);
                }
            }
        }

        return served;
    }

    /// <summary>The newest of v1, v1beta2, v1beta1 that <paramref name="served"/> lists, or null.</summary>
    public static ResourceApiVersion? Select(IReadOnlyList<string> served)
    {
        ArgumentNullException.ThrowIfNull(served);
        foreach (var candidate in ResourceApiVersions.Preference)
        {
            if (served.Contains(candidate.ToWire(), StringComparer.Ordinal))
            {
                return candidate;
            }
        }

        return null;
    }
}
