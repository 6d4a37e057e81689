using SecureDra.Kube.Client;

namespace SecureDra.Controller.Audit.Sources;

/// <summary>Picks the newest served resource.k8s.io version of v1, v1beta2, v1beta1 from API discovery.</summary>
public static class ResourceApiDiscovery
{
    public static IReadOnlyList<string> Preference { get; } = ["v1", "v1beta2", "v1beta1"];

    public static async Task<string> NegotiateAsync(IKubeApiClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var group = await client.GetPathAsync("/apis/resource.k8s.io", cancellationToken).ConfigureAwait(false);
        var served = JsonAccess.Objects(group, "versions").Select(v => JsonAccess.String(v, "version")).OfType<string>().ToHashSet(StringComparer.Ordinal);
        return Preference.FirstOrDefault(served.Contains)
            ?? throw new InvalidOperationException(
                $"the API server serves none of resource.k8s.io {string.Join(", ", Preference)} (served: [{string.Join(", ", served)}]); DRA needs Kubernetes 1.32 or later with the resource.k8s.io API enabled");
    }
}
