using System.Text.Json.Nodes;
using SecureDra.Kube.Client;

namespace SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

/// <summary>Serves the Node (for the owner reference) and /version; the pipeline uses nothing else of the raw client.</summary>
public sealed class FakeKubeApiClient : IKubeApiClient
{
    public string? NodeUid { get; set; } = "node-uid-1";
    public string Minor { get; set; } = "35";

    public Task<JsonObject?> GetAsync(KubeResource resource, string? @namespace, string name, CancellationToken cancellationToken) =>
        Task.FromResult(resource.Plural == "nodes" && NodeUid is not null
            ? new JsonObject { ["metadata"] = new JsonObject { ["name"] = name, ["uid"] = NodeUid } }
            : null);

    public Task<JsonNode?> GetPathAsync(string path, CancellationToken cancellationToken) =>
        Task.FromResult<JsonNode?>(path == "/version" ? new JsonObject { ["major"] = "1", ["minor"] = Minor } : null);

    public Task<JsonObject> ListAsync(KubeResource resource, string? @namespace, KubeListOptions? options, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<JsonObject> CreateAsync(KubeResource resource, string? @namespace, JsonObject body, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<JsonObject> UpdateAsync(KubeResource resource, string? @namespace, string name, JsonObject body, CancellationToken cancellationToken, string? subresource = null) => throw new NotSupportedException();
    public Task DeleteAsync(KubeResource resource, string? @namespace, string name, CancellationToken cancellationToken) => throw new NotSupportedException();
    public IAsyncEnumerable<KubeWatchEvent> WatchAsync(KubeResource resource, string? @namespace, KubeListOptions? options, CancellationToken cancellationToken) => throw new NotSupportedException();
}
