using System.Text.Json;
using System.Text.Json.Nodes;

namespace SecureDra.Controller.Audit;

/// <summary>Type-safe reads from untyped Kubernetes objects: a missing or wrongly typed field reads as absent.</summary>
internal static class JsonAccess
{
    public static JsonNode? Node(JsonNode? node, params string[] path)
    {
        foreach (var segment in path)
        {
            if (node is not JsonObject obj || !obj.TryGetPropertyValue(segment, out node))
            {
                return null;
            }
        }

        return node;
    }

    public static string? String(JsonNode? node, params string[] path) =>
        Node(node, path) is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static bool? Bool(JsonNode? node, params string[] path) =>
        Node(node, path) is JsonValue value && value.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? value.GetValue<bool>() : null;

    public static IEnumerable<JsonObject> Objects(JsonNode? node, params string[] path) =>
        Node(node, path) is JsonArray array ? array.OfType<JsonObject>() : [];

    public static IEnumerable<string> Strings(JsonNode? node, params string[] path) =>
        Node(node, path) is JsonArray array
            ? array.OfType<JsonValue>().Where(v => v.GetValueKind() == JsonValueKind.String).Select(v => v.GetValue<string>())
            : [];
}
