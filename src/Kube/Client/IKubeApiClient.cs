using System.Text.Json.Nodes;

namespace SecureDra.Kube.Client;

/// <summary>
/// A Kubernetes REST client at the level of JSON objects: the real API server in a cluster, the
/// local stand-in in the demo and tests. Every call honours the token; every API error is a
/// <see cref="KubeApiException"/> carrying the HTTP status and the Status body's reason.
/// </summary>
public interface IKubeApiClient
{
    /// <summary>GET; null when the object does not exist (404).</summary>
    Task<JsonObject?> GetAsync(KubeResource resource, string? @namespace, string name, CancellationToken cancellationToken);

    /// <summary>LIST; returns the List object (items, metadata.resourceVersion). A null namespace lists a namespaced resource across all namespaces.</summary>
    Task<JsonObject> ListAsync(KubeResource resource, string? @namespace, KubeListOptions? options, CancellationToken cancellationToken);

    Task<JsonObject> CreateAsync(KubeResource resource, string? @namespace, JsonObject body, CancellationToken cancellationToken);

    /// <summary>PUT with the body's metadata.resourceVersion; 409 Conflict surfaces as a KubeApiException.</summary>
    Task<JsonObject> UpdateAsync(KubeResource resource, string? @namespace, string name, JsonObject body, CancellationToken cancellationToken, string? subresource = null);

    /// <summary>DELETE; a missing object is not an error.</summary>
    Task DeleteAsync(KubeResource resource, string? @namespace, string name, CancellationToken cancellationToken);

    /// <summary>WATCH from a resourceVersion; one event per line until the server closes or the token fires. A null namespace watches all namespaces.</summary>
    IAsyncEnumerable<KubeWatchEvent> WatchAsync(KubeResource resource, string? @namespace, KubeListOptions? options, CancellationToken cancellationToken);

    /// <summary>GET of an arbitrary path (discovery: /apis/resource.k8s.io, /version).</summary>
    Task<JsonNode?> GetPathAsync(string path, CancellationToken cancellationToken);
}

public sealed record KubeListOptions(string? LabelSelector = null, string? FieldSelector = null, string? ResourceVersion = null, int? TimeoutSeconds = null);

public sealed record KubeWatchEvent(string Type, JsonObject Object);
