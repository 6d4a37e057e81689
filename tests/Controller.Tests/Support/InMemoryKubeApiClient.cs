using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using SecureDra.Kube.Client;

namespace SecureDra.Controller.Tests.Support;

/// <summary>
/// An API server in memory at the JSON level: resourceVersion per write, 409 Conflict on a stale PUT, 409
/// AlreadyExists on a duplicate create, 404 for resources it was told are not served. Records every call.
/// </summary>
internal sealed class InMemoryKubeApiClient : IKubeApiClient
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);
    private long _resourceVersion = 100;

    public HashSet<string> ServedResourceVersions { get; } = ["v1", "v1beta2", "v1beta1"];

    public HashSet<string> NotServedPlurals { get; } = [];

    public List<string> Calls { get; } = [];

    /// <summary>Runs before every update; lets a test race another writer in.</summary>
    public Action<KubeResource, string>? BeforeUpdate { get; set; }

    public Func<KubeResource, Exception?>? FailNext { get; set; }

    public void Seed(KubeResource resource, JsonObject obj)
    {
        var ns = (string?)obj["metadata"]?["namespace"];
        var name = (string)obj["metadata"]!["name"]!;
        lock (_lock)
        {
            obj["metadata"]!["resourceVersion"] = NextVersion();
            _objects[Key(resource, ns, name)] = (JsonObject)obj.DeepClone();
        }
    }

    public JsonObject? Peek(KubeResource resource, string? ns, string name)
    {
        lock (_lock)
        {
            return _objects.TryGetValue(Key(resource, ns, name), out var obj) ? (JsonObject)obj.DeepClone() : null;
        }
    }

    public Task<JsonObject?> GetAsync(KubeResource resource, string? @namespace, string name, CancellationToken cancellationToken)
    {
        Record("GET", resource, @namespace, name);
        return Task.FromResult(Peek(resource, @namespace, name));
    }

    public Task<JsonObject> ListAsync(KubeResource resource, string? @namespace, KubeListOptions? options, CancellationToken cancellationToken)
    {
        Record("LIST", resource, @namespace, "");
        if (NotServedPlurals.Contains(resource.Plural) || (resource.Group == "resource.k8s.io" && !ServedResourceVersions.Contains(resource.Version)))
        {
            throw new KubeApiException(HttpStatusCode.NotFound, "NotFound", $"the server could not find the requested resource {resource.ApiVersion} {resource.Plural}");
        }

        lock (_lock)
        {
            var prefix = $"{resource.Group}/{resource.Plural}/";
            var items = _objects.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && (@namespace is null || kv.Key.StartsWith(prefix + @namespace + "/", StringComparison.Ordinal)))
                .Select(kv => (JsonNode)kv.Value.DeepClone()).ToArray();
            foreach (var item in items)
            {
                // Like a real LIST: items carry no kind/apiVersion.
                item.AsObject().Remove("kind");
                item.AsObject().Remove("apiVersion");
            }

            return Task.FromResult(new JsonObject { ["items"] = new JsonArray(items), ["metadata"] = new JsonObject { ["resourceVersion"] = _resourceVersion.ToString(CultureInfo.InvariantCulture) } });
        }
    }

    public Task<JsonObject> CreateAsync(KubeResource resource, string? @namespace, JsonObject body, CancellationToken cancellationToken)
    {
        var name = (string)body["metadata"]!["name"]!;
        Record("CREATE", resource, @namespace, name);
        ThrowIfFailing(resource);
        lock (_lock)
        {
            var key = Key(resource, @namespace, name);
            if (_objects.ContainsKey(key))
            {
                throw new KubeApiException(HttpStatusCode.Conflict, "AlreadyExists", $"{resource.Plural} \"{name}\" already exists");
            }

            var stored = (JsonObject)body.DeepClone();
            stored["metadata"]!["resourceVersion"] = NextVersion();
            _objects[key] = stored;
            return Task.FromResult((JsonObject)stored.DeepClone());
        }
    }

    public Task<JsonObject> UpdateAsync(KubeResource resource, string? @namespace, string name, JsonObject body, CancellationToken cancellationToken, string? subresource = null)
    {
        Record("UPDATE", resource, @namespace, name);
        BeforeUpdate?.Invoke(resource, name);
        ThrowIfFailing(resource);
        lock (_lock)
        {
            var key = Key(resource, @namespace, name);
            if (!_objects.TryGetValue(key, out var current))
            {
                throw new KubeApiException(HttpStatusCode.NotFound, "NotFound", $"{resource.Plural} \"{name}\" not found");
            }

            if ((string?)body["metadata"]?["resourceVersion"] != (string?)current["metadata"]!["resourceVersion"])
            {
                throw new KubeApiException(HttpStatusCode.Conflict, "Conflict", $"Operation cannot be fulfilled on {resource.Plural} \"{name}\": the object has been modified");
            }

            var stored = (JsonObject)body.DeepClone();
            stored["metadata"]!["resourceVersion"] = NextVersion();
            _objects[key] = stored;
            return Task.FromResult((JsonObject)stored.DeepClone());
        }
    }

    public Task DeleteAsync(KubeResource resource, string? @namespace, string name, CancellationToken cancellationToken)
    {
        Record("DELETE", resource, @namespace, name);
        lock (_lock)
        {
            _objects.Remove(Key(resource, @namespace, name));
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<KubeWatchEvent> WatchAsync(KubeResource resource, string? @namespace, KubeListOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        yield break;
    }

    public Task<JsonNode?> GetPathAsync(string path, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Calls.Add($"GET {path}");
        }

        if (path != "/apis/resource.k8s.io")
        {
            return Task.FromResult<JsonNode?>(null);
        }

        var versions = new JsonArray(ServedResourceVersions.Select(v => (JsonNode)new JsonObject { ["groupVersion"] = "resource.k8s.io/" + v, ["version"] = v }).ToArray());
        return Task.FromResult<JsonNode?>(new JsonObject { ["kind"] = "APIGroup", ["name"] = "resource.k8s.io", ["versions"] = versions });
    }

    private void ThrowIfFailing(KubeResource resource)
    {
        if (FailNext?.Invoke(resource) is { } error)
        {
            FailNext = null;
            throw error;
        }
    }

    private void Record(string verb, KubeResource resource, string? ns, string name)
    {
        lock (_lock)
        {
            Calls.Add($"{verb} {resource.ApiVersion}/{resource.Plural} {ns}/{name}");
        }
    }

    private string NextVersion() => (++_resourceVersion).ToString(CultureInfo.InvariantCulture);

    private static string Key(KubeResource resource, string? ns, string name) => $"{resource.Group}/{resource.Plural}/{ns ?? ""}/{name}";
}
