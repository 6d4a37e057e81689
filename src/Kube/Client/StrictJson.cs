using System.Text.Json;
using System.Text.Json.Nodes;

namespace SecureDra.Kube.Client;

/// <summary>
/// Parses JSON from the network or a plugin so that what comes back is safe to read anywhere: valid UTF-8, no
/// duplicate keys, and no string or key that fails when materialised (a lone surrogate such as <c>\uDC00</c>).
/// <see cref="JsonNode.Parse(ReadOnlySpan{byte}, JsonNodeOptions?, JsonDocumentOptions)"/> defers all three to the
/// first read of the value, where they would escape as InvalidOperationException or ArgumentException far from
/// the parse; here every defect is one <see cref="JsonException"/> at the parse.
/// </summary>
internal static class StrictJson
{
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8, int maxDepth)
    {
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            throw new JsonException("the text is not valid UTF-8");
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(utf8, documentOptions: new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false });
            Materialise(node);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            throw new JsonException($"the JSON holds an invalid string or a duplicate key: {ex.Message}", ex);
        }

        return node;
    }

    /// <summary>Reads every key and string once, iteratively (the depth is bounded, but a stack walk needs no recursion at all).</summary>
    private static void Materialise(JsonNode? root)
    {
        var pending = new Stack<JsonNode?>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            switch (pending.Pop())
            {
                case JsonObject obj:
                    foreach (var (_, child) in obj)
                    {
                        pending.Push(child);
                    }

                    break;
                case JsonArray array:
                    foreach (var child in array)
                    {
                        pending.Push(child);
                    }

                    break;
                case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                    _ = value.GetValue<string>();
                    break;
            }
        }
    }
}
