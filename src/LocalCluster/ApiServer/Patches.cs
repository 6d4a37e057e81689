using System.Globalization;
using System.Text.Json.Nodes;
using SecureDra.LocalCluster.ApiServer.Json;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// Patch application. JSON merge patch (RFC 7386) also stands in for strategic merge patch: for the resources served
/// here the difference is list merging by key, which kubectl's client-side apply does not need for our objects.
/// </summary>
public static class Patches
{
    public static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject t ? (JsonObject)t.DeepClone() : [];
        foreach (var (key, value) in patchObject)
        {
            if (key.StartsWith("$", StringComparison.Ordinal))
            {
                // Strategic-merge directives ($patch, $retainKeys, $setElementOrder/...) have no merge-patch meaning.
                continue;
            }

            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = MergePatch(result[key], value);
            }
        }

        return result;
    }

    /// <summary>RFC 6902 JSON patch: add, remove, replace, test, copy, move.</summary>
    public static JsonNode? JsonPatch(JsonNode? target, JsonArray operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var doc = target?.DeepClone();
        foreach (var op in operations)
        {
            var name = JsonFields.Str(op?["op"]) ?? throw ApiError.BadRequest("json patch operation without \"op\"");
            var path = JsonFields.Str(op?["path"]) ?? throw ApiError.BadRequest("json patch operation without \"path\"");
            switch (name)
            {
                case "add":
                    doc = Add(doc, path, op!["value"]?.DeepClone());
                    break;
                case "remove":
                    doc = Remove(doc, path, out _);
                    break;
                case "replace":
                    doc = Remove(doc, path, out _);
                    doc = Add(doc, path, op!["value"]?.DeepClone());
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Resolve(doc, path), op!["value"]))
                    {
                        throw new ApiError(422, "Invalid", $"the server rejected our request due to an error in our request: test failed at {path}");
                    }

                    break;
                case "copy":
                    doc = Add(doc, path, Resolve(doc, JsonFields.Str(op!["from"]) ?? string.Empty)?.DeepClone());
                    break;
                case "move":
                    doc = Remove(doc, JsonFields.Str(op!["from"]) ?? string.Empty, out var moved);
                    doc = Add(doc, path, moved);
                    break;
                default:
                    throw ApiError.BadRequest($"unknown json patch operation \"{name}\"");
            }
        }

        return doc;
    }

    private static string[] Split(string pointer) =>
        pointer.Length == 0 ? [] : pointer.TrimStart('/').Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();

    private static string ParentPointer(string[] tokens) =>
        tokens.Length <= 1 ? string.Empty : "/" + string.Join('/', tokens[..^1].Select(t => t.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)));

    private static JsonNode? Resolve(JsonNode? doc, string pointer)
    {
        var node = doc;
        foreach (var token in Split(pointer))
        {
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var child) => child,
                JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => throw new ApiError(422, "Invalid", $"the server rejected our request due to an error in our request: path {pointer} not found"),
            };
        }

        return node;
    }

    private static JsonNode? Add(JsonNode? doc, string pointer, JsonNode? value)
    {
        var tokens = Split(pointer);
        if (tokens.Length == 0)
        {
            return value;
        }

        var parent = Resolve(doc, ParentPointer(tokens));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw new ApiError(422, "Invalid", $"the server rejected our request due to an error in our request: cannot add at {pointer}");
        }

        return doc;
    }

    private static JsonNode? Remove(JsonNode? doc, string pointer, out JsonNode? removed)
    {
        var tokens = Split(pointer);
        if (tokens.Length == 0)
        {
            throw new ApiError(422, "Invalid", "the server rejected our request due to an error in our request: cannot remove the whole document");
        }

        var parent = Resolve(doc, ParentPointer(tokens));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var value):
                o.Remove(last);
                removed = value;
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count:
                removed = a[i];
                a.RemoveAt(i);
                break;
            default:
                throw new ApiError(422, "Invalid", $"the server rejected our request due to an error in our request: path {pointer} not found");
        }

        return doc;
    }
}
