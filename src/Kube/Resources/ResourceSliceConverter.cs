using System.Globalization;
using System.Text.Json.Nodes;
using SecureDra.Kube.Resources.Wire;

namespace SecureDra.Kube.Resources;

/// <summary>
/// <see cref="ResourceSliceModel"/> ⇄ ResourceSlice JSON in each served version. v1beta1 nests a
/// device's fields under <c>basic</c>; v1beta2 and v1 keep them flat. Capacity is
/// <c>{value: "80Gi"}</c> in all three.
/// </summary>
public static class ResourceSliceConverter
{
    public static JsonObject ToJson(ResourceSliceModel slice, ResourceApiVersion version)
    {
        ArgumentNullException.ThrowIfNull(slice);
        var metadata = new JsonObject();
        if (!string.IsNullOrEmpty(slice.Name))
        {
            metadata["name"] = slice.Name;
        }

        if (!string.IsNullOrEmpty(slice.GenerateName))
        {
            metadata["generateName"] = slice.GenerateName;
        }

        if (!string.IsNullOrEmpty(slice.ResourceVersion))
        {
            metadata["resourceVersion"] = slice.ResourceVersion;
        }

        if (slice.Owner is { } owner)
        {
            metadata["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = owner.ApiVersion,
                ["kind"] = owner.Kind,
                ["name"] = owner.Name,
                ["uid"] = owner.Uid,
                ["controller"] = owner.Controller,
            });
        }

        var devices = new JsonArray();
        foreach (var device in slice.Devices)
        {
            devices.Add((JsonNode)DeviceToJson(device, version));
        }

        var spec = new JsonObject
        {
            ["driver"] = slice.Driver,
            ["nodeName"] = slice.NodeName,
            ["pool"] = new JsonObject
            {
                ["name"] = slice.PoolName,
                ["generation"] = slice.PoolGeneration,
                ["resourceSliceCount"] = slice.ResourceSliceCount,
            },
            ["devices"] = devices,
        };

        if (slice.SharedCounters is { Count: > 0 } sets)
        {
            var shared = new JsonArray();
            foreach (var set in sets)
            {
                shared.Add((JsonNode)new JsonObject { ["name"] = set.Name, ["counters"] = CountersToJson(set.Counters) });
            }

            spec["sharedCounters"] = shared;
        }

        return new JsonObject
        {
            ["apiVersion"] = version.ToApiVersion(),
            ["kind"] = "ResourceSlice",
            ["metadata"] = metadata,
            ["spec"] = spec,
        };
    }

    private static JsonObject DeviceToJson(SliceDevice device, ResourceApiVersion version)
    {
        var fields = new JsonObject();
        if (device.Attributes.Count > 0)
        {
            var attributes = new JsonObject();
            foreach (var (name, value) in device.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                attributes[name] = AttributeToJson(value, name);
            }

            fields["attributes"] = attributes;
        }

        if (device.Capacity.Count > 0)
        {
            var capacity = new JsonObject();
            foreach (var (name, quantity) in device.Capacity.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                capacity[name] = new JsonObject { ["value"] = quantity };
            }

            fields["capacity"] = capacity;
        }

        if (device.Taints.Count > 0)
        {
            var taints = new JsonArray();
            foreach (var taint in device.Taints)
            {
                var t = new JsonObject { ["key"] = taint.Key };
                if (taint.Value is not null)
                {
                    t["value"] = taint.Value;
                }

                t["effect"] = taint.Effect;
                if (taint.TimeAdded is { } added)
                {
                    t["timeAdded"] = added.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                }

                taints.Add((JsonNode)t);
            }

            fields["taints"] = taints;
        }

        if (device.ConsumesCounters is { Count: > 0 } consumptions)
        {
            var consumes = new JsonArray();
            foreach (var consumption in consumptions)
            {
                consumes.Add((JsonNode)new JsonObject { ["counterSet"] = consumption.CounterSet, ["counters"] = CountersToJson(consumption.Counters) });
            }

            fields["consumesCounters"] = consumes;
        }

        if (version == ResourceApiVersion.V1Beta1)
        {
            return new JsonObject { ["name"] = device.Name, ["basic"] = fields };
        }

        var flat = new JsonObject { ["name"] = device.Name };
        foreach (var (key, value) in fields.ToList())
        {
            fields.Remove(key);
            flat[key] = value;
        }

        return flat;
    }

    private static JsonObject CountersToJson(IReadOnlyDictionary<string, string> counters)
    {
        var map = new JsonObject();
        foreach (var (name, quantity) in counters.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            map[name] = new JsonObject { ["value"] = quantity };
        }

        return map;
    }

    private static Dictionary<string, string> CountersFromJson(JsonObject owner, string path)
    {
        var counters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (JsonRead.Object(owner, "counters", path) is { } map)
        {
            foreach (var (key, value) in JsonRead.Properties(map, $"{path}.counters"))
            {
                var counterPath = $"{path}.counters[{key}]";
                var entry = value as JsonObject ?? throw new KubeObjectFormatException(counterPath, "expected {value: <quantity>}");
                counters[key] = QuantityText(JsonRead.Get(entry, "value", counterPath), $"{counterPath}.value");
            }
        }

        return counters;
    }

    private static JsonObject AttributeToJson(DeviceAttributeValue value, string name)
    {
        var set = (value.String is not null ? 1 : 0) + (value.Int is not null ? 1 : 0) + (value.Bool is not null ? 1 : 0) + (value.Version is not null ? 1 : 0);
        if (set != 1)
        {
            throw new ArgumentException($"attribute {name}: exactly one of string, int, bool, version must be set; {set} are", nameof(value));
        }

        return value switch
        {
            { String: { } s } => new JsonObject { ["string"] = s },
            { Int: { } i } => new JsonObject { ["int"] = i },
            { Bool: { } b } => new JsonObject { ["bool"] = b },
            _ => new JsonObject { ["version"] = value.Version },
        };
    }

    /// <summary>Reads a ResourceSlice of any served version; the shape follows <c>apiVersion</c> (by shape when absent).</summary>
    public static ResourceSliceModel FromJson(JsonObject slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        const string Root = "resourceSlice";
        var apiVersion = JsonRead.String(slice, "apiVersion", Root);
        ResourceApiVersion? version = ResourceApiVersions.TryParse(apiVersion, out var v) ? v : null;
        if (apiVersion is not null && version is null)
        {
            throw new KubeObjectFormatException($"{Root}.apiVersion", $"{apiVersion} is not one of resource.k8s.io/v1, v1beta2, v1beta1");
        }

        var metadata = JsonRead.Object(slice, "metadata", Root) ?? [];
        var spec = JsonRead.RequiredObject(slice, "spec", Root);
        var pool = JsonRead.RequiredObject(spec, "pool", "spec");
        var devices = new List<SliceDevice>();
        foreach (var (device, path) in JsonRead.Objects(spec, "devices", "spec"))
        {
            devices.Add(DeviceFromJson(device, path, version));
        }

        List<CounterSet>? shared = null;
        foreach (var (set, path) in JsonRead.Objects(spec, "sharedCounters", "spec"))
        {
            (shared ??= []).Add(new CounterSet(JsonRead.RequiredString(set, "name", path), CountersFromJson(set, path)));
        }

        OwnerReference? owner = null;
        foreach (var (reference, path) in JsonRead.Objects(metadata, "ownerReferences", "metadata"))
        {
            var candidate = new OwnerReference(
                JsonRead.RequiredString(reference, "apiVersion", path),
                JsonRead.RequiredString(reference, "kind", path),
                JsonRead.RequiredString(reference, "name", path),
                JsonRead.RequiredString(reference, "uid", path),
                JsonRead.Bool(reference, "controller", path));
            if (owner is null || candidate.Controller)
            {
                owner = candidate;
            }
        }

        return new ResourceSliceModel(
            JsonRead.String(metadata, "name", "metadata"),
            JsonRead.String(metadata, "resourceVersion", "metadata"),
            JsonRead.RequiredString(spec, "driver", "spec"),
            JsonRead.String(spec, "nodeName", "spec") ?? "",
            JsonRead.RequiredString(pool, "name", "spec.pool"),
            JsonRead.Long(pool, "generation", "spec.pool") ?? 0,
            JsonRead.Long(pool, "resourceSliceCount", "spec.pool") ?? 0,
            devices,
            owner,
            JsonRead.String(metadata, "generateName", "metadata"),
            shared);
    }

    private static SliceDevice DeviceFromJson(JsonObject device, string path, ResourceApiVersion? version)
    {
        var name = JsonRead.RequiredString(device, "name", path);
        var basic = JsonRead.Object(device, "basic", path);
        JsonObject fields;
        string fieldsPath;
        if (version == ResourceApiVersion.V1Beta1 || (version is null && basic is not null))
        {
            fields = basic ?? throw new KubeObjectFormatException($"{path}.basic", "is required in resource.k8s.io/v1beta1");
            fieldsPath = $"{path}.basic";
        }
        else
        {
            if (basic is not null)
            {
                throw new KubeObjectFormatException($"{path}.basic", "exists only in resource.k8s.io/v1beta1");
            }

            fields = device;
            fieldsPath = path;
        }

        var attributes = new Dictionary<string, DeviceAttributeValue>(StringComparer.Ordinal);
        if (JsonRead.Object(fields, "attributes", fieldsPath) is { } attributeMap)
        {
            foreach (var (key, value) in JsonRead.Properties(attributeMap, $"{fieldsPath}.attributes"))
            {
                attributes[key] = AttributeFromJson(value, $"{fieldsPath}.attributes[{key}]");
            }
        }

        var capacity = new Dictionary<string, string>(StringComparer.Ordinal);
        if (JsonRead.Object(fields, "capacity", fieldsPath) is { } capacityMap)
        {
            foreach (var (key, value) in JsonRead.Properties(capacityMap, $"{fieldsPath}.capacity"))
            {
                var capacityPath = $"{fieldsPath}.capacity[{key}]";
                var entry = value as JsonObject ?? throw new KubeObjectFormatException(capacityPath, "expected {value: <quantity>}");
                capacity[key] = QuantityText(JsonRead.Get(entry, "value", capacityPath), $"{capacityPath}.value");
            }
        }

        var taints = new List<DeviceTaint>();
        foreach (var (taint, taintPath) in JsonRead.Objects(fields, "taints", fieldsPath))
        {
            DateTimeOffset? added = null;
            if (JsonRead.String(taint, "timeAdded", taintPath) is { } time)
            {
                added = DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                    ? parsed
                    : throw new KubeObjectFormatException($"{taintPath}.timeAdded", $"{time} is not an RFC 3339 time");
            }

            taints.Add(new DeviceTaint(
                JsonRead.RequiredString(taint, "key", taintPath),
                JsonRead.String(taint, "value", taintPath),
                JsonRead.RequiredString(taint, "effect", taintPath),
                added));
        }

        List<CounterConsumption>? consumes = null;
        foreach (var (consumption, consumptionPath) in JsonRead.Objects(fields, "consumesCounters", fieldsPath))
        {
            (consumes ??= []).Add(new CounterConsumption(JsonRead.RequiredString(consumption, "counterSet", consumptionPath), CountersFromJson(consumption, consumptionPath)));
        }

        return new SliceDevice(name, attributes, capacity, taints, consumes);
    }

    private static string QuantityText(JsonNode? node, string path) => node switch
    {
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => JsonRead.Text(v, path),
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number => v.ToJsonString(),
        _ => throw new KubeObjectFormatException(path, "expected a quantity such as \"80Gi\""),
    };

    private static DeviceAttributeValue AttributeFromJson(JsonNode? node, string path)
    {
        var obj = node as JsonObject ?? throw new KubeObjectFormatException(path, "expected an object with one of int, bool, string, version");
        var result = (DeviceAttributeValue?)null;
        var count = 0;
        foreach (var (key, _) in JsonRead.Properties(obj, path))
        {
            count++;
            result = key switch
            {
                "string" => DeviceAttributeValue.Of(JsonRead.String(obj, key, path) ?? throw NullAttribute(path, key)),
                "version" => DeviceAttributeValue.SemVer(JsonRead.String(obj, key, path) ?? throw NullAttribute(path, key)),
                "int" => DeviceAttributeValue.Of(JsonRead.Long(obj, key, path) ?? throw NullAttribute(path, key)),
                "bool" => JsonRead.Get(obj, key, path) is null ? throw NullAttribute(path, key) : DeviceAttributeValue.Of(JsonRead.Bool(obj, key, path)),
                _ => throw new KubeObjectFormatException($"{path}.{key}", "unknown attribute type (expected int, bool, string or version)"),
            };
        }

        return count == 1 && result is not null
            ? result
            : throw new KubeObjectFormatException(path, $"exactly one of int, bool, string, version must be set; {count} are");
    }

    // {"int": null} names a type but no value: Kubernetes rejects it, and reading it as "no value" would crash later.
    private static KubeObjectFormatException NullAttribute(string path, string key) =>
        new($"{path}.{key}", "must not be null");
}
