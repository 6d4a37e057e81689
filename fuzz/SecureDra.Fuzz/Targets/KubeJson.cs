using System.Text.Json;
using System.Text.Json.Nodes;

namespace SecureDra.Fuzz.Targets;

/// <summary>Bytes → JsonObject exactly as the Kubernetes client parses an API response (lazily, depth up to 1000).</summary>
internal static class KubeJson
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 1000 };

    /// <summary>Null when the client would refuse the body as not JSON (or not an object) before any converter sees it.</summary>
    public static JsonObject? Parse(ReadOnlySpan<byte> input)
    {
        try
        {
            return JsonNode.Parse(input, documentOptions: Options) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
