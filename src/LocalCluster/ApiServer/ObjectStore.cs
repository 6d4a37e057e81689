using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SecureDra.LocalCluster.ApiServer.Json;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// The in-memory object store: every object once, in the stored (v1) shape, under one global resourceVersion
/// counter like etcd's revision. Keeps a bounded event history for watches; older starts get 410 Gone.
/// </summary>
public sealed class ObjectStore
{
    private const string GenerateNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, SortedDictionary<string, JsonObject>> _objects = new(StringComparer.Ordinal);
    private readonly Queue<StoredEvent> _history = new();
    private readonly List<WatchSubscription> _watchers = [];
    private readonly TimeProvider _time;
    private readonly int _historyLimit;
    private long _resourceVersion = 1;
    private long _compactedThrough;

    public ObjectStore(TimeProvider time, int historyLimit)
    {
        _time = time;
        _historyLimit = Math.Max(1, historyLimit);
    }

    public long ResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _resourceVersion;
            }
        }
    }

    /// <summary>The current resourceVersion when <paramref name="subscription"/> has nothing pending (a safe bookmark), else null.</summary>
    public long? QuietResourceVersion(WatchSubscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        lock (_gate)
        {
            // Publishing happens under the same lock, so an empty channel here means every committed event was read.
            return subscription.Live.Count == 0 ? _resourceVersion : null;
        }
    }

    public static string Key(string? @namespace, string name) => @namespace is null ? name : $"{@namespace}/{name}";

    public JsonObject? Get(ResourceType type, string? @namespace, string name)
    {
        lock (_gate)
        {
            return Bucket(type).TryGetValue(Key(@namespace, name), out var obj) ? (JsonObject)obj.DeepClone() : null;
        }
    }

    public (List<JsonObject> Items, long ResourceVersion) List(ResourceType type, string? @namespace)
    {
        lock (_gate)
        {
            var items = Bucket(type).Values
                .Where(o => @namespace is null || Namespace(o) == @namespace)
                .Select(o => (JsonObject)o.DeepClone())
                .ToList();
            return (items, _resourceVersion);
        }
    }

    public JsonObject Create(ResourceType type, string? @namespace, JsonObject obj, ResourceType namespaceType)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(obj);
        lock (_gate)
        {
            if (@namespace is not null && !Bucket(namespaceType).ContainsKey(@namespace))
            {
                throw ApiError.NotFound(namespaceType, @namespace);
            }

            var metadata = obj["metadata"] as JsonObject ?? [];
            obj["metadata"] = metadata;
            var bucket = Bucket(type);
            var name = JsonFields.Str(metadata["name"]);
            if (string.IsNullOrEmpty(name))
            {
                var prefix = JsonFields.Str(metadata["generateName"]) ?? string.Empty;
                do
                {
                    name = prefix + string.Create(5, 0, (span, _) =>
                    {
                        for (var i = 0; i < span.Length; i++)
                        {
                            span[i] = GenerateNameAlphabet[RandomNumberGenerator.GetInt32(GenerateNameAlphabet.Length)];
                        }
                    });
                }
                while (bucket.ContainsKey(Key(@namespace, name)));
                metadata["name"] = name;
            }
            else if (bucket.ContainsKey(Key(@namespace, name)))
            {
                throw ApiError.AlreadyExists(type, name);
            }

            if (@namespace is not null)
            {
                metadata["namespace"] = @namespace;
            }

            metadata["uid"] = Guid.NewGuid().ToString();
            metadata["creationTimestamp"] = Now();
            metadata["generation"] = 1;
            metadata.Remove("deletionTimestamp");
            metadata.Remove("selfLink");
            metadata["resourceVersion"] = Next();
            bucket[Key(@namespace, name)] = obj;
            Publish(type, @namespace, "ADDED", obj, null);
            return (JsonObject)obj.DeepClone();
        }
    }

    /// <summary>
    /// Replaces an object with what <paramref name="compute"/> returns for the current one (it may throw an
    /// <see cref="ApiError"/>). Bumps resourceVersion, and generation when anything outside metadata/status changed.
    /// An object being deleted whose last finalizer is removed goes away.
    /// </summary>
    public JsonObject Replace(ResourceType type, string? @namespace, string name, Func<JsonObject, JsonObject> compute)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(compute);
        lock (_gate)
        {
            var bucket = Bucket(type);
            if (!bucket.TryGetValue(Key(@namespace, name), out var current))
            {
                throw ApiError.NotFound(type, name);
            }

            var updated = compute((JsonObject)current.DeepClone());
            var metadata = updated["metadata"] as JsonObject ?? [];
            updated["metadata"] = metadata;
            var oldMeta = (JsonObject)current["metadata"]!;
            foreach (var immutable in new[] { "name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds" })
            {
                if (oldMeta[immutable] is { } value)
                {
                    metadata[immutable] = value.DeepClone();
                }
                else
                {
                    metadata.Remove(immutable);
                }
            }

            var generation = JsonFields.Long(oldMeta["generation"]) ?? 1;
            metadata["generation"] = SpecChanged(current, updated) ? generation + 1 : generation;
            if (JsonNode.DeepEquals(Strip(current, keepStatus: true), Strip(updated, keepStatus: true))
                && JsonNode.DeepEquals(WithoutVolatile(oldMeta), WithoutVolatile(metadata)))
            {
                // A no-op write keeps the resourceVersion and emits no event, like the real server.
                return (JsonObject)current.DeepClone();
            }

            metadata["resourceVersion"] = Next();
            if (metadata["deletionTimestamp"] is not null && metadata["finalizers"] is not JsonArray { Count: > 0 })
            {
                bucket.Remove(Key(@namespace, name));
                Publish(type, @namespace, "DELETED", updated, current);
                return (JsonObject)updated.DeepClone();
            }

            bucket[Key(@namespace, name)] = updated;
            Publish(type, @namespace, "MODIFIED", updated, current);
            return (JsonObject)updated.DeepClone();
        }
    }

    /// <summary>Deletes, or marks for deletion when finalizers remain. Returns the last state.</summary>
    public JsonObject Delete(ResourceType type, string? @namespace, string name, Action<JsonObject> checkPreconditions)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(checkPreconditions);
        lock (_gate)
        {
            var bucket = Bucket(type);
            if (!bucket.TryGetValue(Key(@namespace, name), out var current))
            {
                throw ApiError.NotFound(type, name);
            }

            checkPreconditions(current);
            return DeleteLocked(type, @namespace, name, current);
        }
    }

    public List<JsonObject> DeleteCollection(ResourceType type, string? @namespace, Func<JsonObject, bool> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);
        lock (_gate)
        {
            var bucket = Bucket(type);
            var victims = bucket.Values.Where(o => (@namespace is null || Namespace(o) == @namespace) && matches(o)).ToList();
            return victims.Select(o => DeleteLocked(type, Namespace(o), JsonFields.Str(o["metadata"]?["name"])!, o)).ToList();
        }
    }

    /// <summary>
    /// Starts a watch. <paramref name="fromResourceVersion"/> null: synthetic ADDED events for the current state first;
    /// otherwise the events after it (410 Gone when the history no longer reaches back that far).
    /// </summary>
    public WatchSubscription Watch(ResourceType type, string? @namespace, long? fromResourceVersion)
    {
        ArgumentNullException.ThrowIfNull(type);
        lock (_gate)
        {
            List<StoredEvent> replay;
            if (fromResourceVersion is null)
            {
                replay = Bucket(type).Values
                    .Where(o => @namespace is null || Namespace(o) == @namespace)
                    .Select(o => new StoredEvent(long.Parse(JsonFields.Str(o["metadata"]?["resourceVersion"]) ?? "0", CultureInfo.InvariantCulture), type.Key, Namespace(o), "ADDED", (JsonObject)o.DeepClone(), null))
                    .ToList();
            }
            else
            {
                if (fromResourceVersion < _compactedThrough)
                {
                    throw new ApiError(410, "Expired", $"too old resource version: {fromResourceVersion} ({_compactedThrough + 1})");
                }

                replay = _history.Where(e => e.ResourceVersion > fromResourceVersion && e.TypeKey == type.Key && (@namespace is null || e.Namespace == @namespace)).ToList();
            }

            var subscription = new WatchSubscription(type.Key, @namespace, replay, _resourceVersion, Unsubscribe);
            _watchers.Add(subscription);
            return subscription;
        }
    }

    /// <summary>Ends every watch (server stopping).</summary>
    public void CloseWatches()
    {
        lock (_gate)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Channel.Writer.TryComplete();
            }

            _watchers.Clear();
        }
    }

    private void Unsubscribe(WatchSubscription subscription)
    {
        lock (_gate)
        {
            _watchers.Remove(subscription);
        }
    }

    private JsonObject DeleteLocked(ResourceType type, string? @namespace, string name, JsonObject current)
    {
        var metadata = (JsonObject)current["metadata"]!;
        if (metadata["finalizers"] is JsonArray { Count: > 0 })
        {
            if (metadata["deletionTimestamp"] is null)
            {
                var previous = (JsonObject)current.DeepClone();
                metadata["deletionTimestamp"] = Now();
                metadata["deletionGracePeriodSeconds"] = 0;
                metadata["resourceVersion"] = Next();
                Publish(type, @namespace, "MODIFIED", current, previous);
            }

            return (JsonObject)current.DeepClone();
        }

        Bucket(type).Remove(Key(@namespace, name));
        var deleted = (JsonObject)current.DeepClone();
        deleted["metadata"]!["resourceVersion"] = Next();
        Publish(type, @namespace, "DELETED", deleted, current);
        return (JsonObject)deleted.DeepClone();
    }

    private void Publish(ResourceType type, string? @namespace, string eventType, JsonObject obj, JsonObject? previous)
    {
        var snapshot = new StoredEvent(_resourceVersion, type.Key, @namespace, eventType, (JsonObject)obj.DeepClone(), previous is null ? null : (JsonObject)previous.DeepClone());
        _history.Enqueue(snapshot);
        while (_history.Count > _historyLimit)
        {
            _compactedThrough = _history.Dequeue().ResourceVersion;
        }

        foreach (var watcher in _watchers)
        {
            if (watcher.TypeKey == type.Key && (watcher.Namespace is null || watcher.Namespace == @namespace))
            {
                watcher.Channel.Writer.TryWrite(snapshot);
            }
        }
    }

    private string Next() => (++_resourceVersion).ToString(CultureInfo.InvariantCulture);

    private string Now() => _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private SortedDictionary<string, JsonObject> Bucket(ResourceType type)
    {
        if (!_objects.TryGetValue(type.Key, out var bucket))
        {
            bucket = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
            _objects[type.Key] = bucket;
        }

        return bucket;
    }

    private static string? Namespace(JsonObject obj) => JsonFields.Str(obj["metadata"]?["namespace"]);

    private static bool SpecChanged(JsonObject before, JsonObject after) =>
        !JsonNode.DeepEquals(Strip(before, keepStatus: false), Strip(after, keepStatus: false));

    private static JsonObject Strip(JsonObject obj, bool keepStatus)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in obj)
        {
            if (key is "metadata" or "apiVersion" or "kind" || (!keepStatus && key == "status"))
            {
                continue;
            }

            copy[key] = value?.DeepClone();
        }

        return copy;
    }

    private static JsonObject WithoutVolatile(JsonObject metadata)
    {
        var copy = (JsonObject)metadata.DeepClone();
        copy.Remove("resourceVersion");
        copy.Remove("generation");
        copy.Remove("managedFields");
        return copy;
    }
}
