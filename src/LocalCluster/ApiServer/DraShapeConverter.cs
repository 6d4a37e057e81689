using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// Converts resource.k8s.io objects between the stored shape (v1, identical to v1beta2) and v1beta1, which keeps
/// device fields under <c>devices[].basic</c> and request fields flat on the request instead of under <c>exactly</c>.
/// </summary>
public static class DraShapeConverter
{
    private static readonly string[] ExactRequestFields =
        ["deviceClassName", "selectors", "allocationMode", "count", "adminAccess", "tolerations", "capacity"];

    /// <summary>Request body (in <paramref name="version"/>) to the stored shape. Mutates and returns <paramref name="obj"/>.</summary>
    public static JsonObject ToStorage(ResourceType type, string version, JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(obj);
        if (!type.IsResourceApi || version != "v1beta1")
        {
            return obj;
        }

        switch (type.Plural)
        {
            case "resourceslices":
                foreach (var device in Items(obj["spec"]?["devices"]))
                {
                    if (device["basic"] is JsonObject basic)
                    {
                        device.Remove("basic");
                        foreach (var (key, value) in basic.ToList())
                        {
                            basic.Remove(key);
                            device[key] = value;
                        }
                    }
                }

                break;
            case "resourceclaims":
                RequestsToExactly(obj["spec"]?["devices"]?["requests"]);
                break;
            case "resourceclaimtemplates":
                RequestsToExactly(obj["spec"]?["spec"]?["devices"]?["requests"]);
                break;
        }

        return obj;
    }

    /// <summary>Stored object to the wire shape of <paramref name="version"/>. Returns a new object.</summary>
    public static JsonObject FromStorage(ResourceType type, string version, JsonObject stored)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(stored);
        var obj = (JsonObject)stored.DeepClone();
        obj["apiVersion"] = type.ApiVersion(version);
        obj["kind"] = type.Kind;
        MoveFirst(obj);
        if (!type.IsResourceApi || version != "v1beta1")
        {
            return obj;
        }

        switch (type.Plural)
        {
            case "resourceslices":
                foreach (var device in Items(obj["spec"]?["devices"]))
                {
                    var basic = new JsonObject();
                    foreach (var (key, value) in device.ToList())
                    {
                        if (key != "name")
                        {
                            device.Remove(key);
                            basic[key] = value;
                        }
                    }

                    device["basic"] = basic;
                }

                break;
            case "resourceclaims":
                ExactlyToRequests(obj["spec"]?["devices"]?["requests"]);
                break;
            case "resourceclaimtemplates":
                ExactlyToRequests(obj["spec"]?["spec"]?["devices"]?["requests"]);
                break;
        }

        return obj;
    }

    private static void RequestsToExactly(JsonNode? requests)
    {
        foreach (var request in Items(requests))
        {
            if (request["firstAvailable"] is not null)
            {
                continue;
            }

            var exactly = new JsonObject();
            foreach (var field in ExactRequestFields)
            {
                if (request.TryGetPropertyValue(field, out var value))
                {
                    request.Remove(field);
                    exactly[field] = value;
                }
            }

            request["exactly"] = exactly;
        }
    }

    private static void ExactlyToRequests(JsonNode? requests)
    {
        foreach (var request in Items(requests))
        {
            if (request["exactly"] is JsonObject exactly)
            {
                request.Remove("exactly");
                foreach (var (key, value) in exactly.ToList())
                {
                    exactly.Remove(key);
                    request[key] = value;
                }
            }
        }
    }

    /// <summary>kubectl and humans expect apiVersion and kind first.</summary>
    private static void MoveFirst(JsonObject obj)
    {
        var rest = obj.Where(p => p.Key is not ("apiVersion" or "kind")).ToList();
        foreach (var (key, _) in rest)
        {
            obj.Remove(key);
        }

        foreach (var (key, value) in rest)
        {
            obj[key] = value;
        }
    }

    private static IEnumerable<JsonObject> Items(JsonNode? node) =>
        node is JsonArray array ? array.OfType<JsonObject>() : [];
}
