using System.Text.Json.Nodes;

namespace SecureDra.Deploy.Tests.Infrastructure;

internal static class Json
{
    public static string Str(this JsonNode? node, string path) => (string?)node.At(path) ?? "";

    /// <summary>Dotted path lookup ("spec.template.spec"); null when any step is missing.</summary>
    public static JsonNode? At(this JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o && o.TryGetPropertyValue(part, out var v) ? v : null;
        }

        return node;
    }

    public static IEnumerable<JsonNode> Items(this JsonNode? node, string path) =>
        node.At(path) is JsonArray a ? a.Where(x => x is not null).Select(x => x!) : [];

    public static IReadOnlyList<string> Strings(this JsonNode? node, string path) =>
        node.Items(path).Select(x => (string)x!).ToList();
}
