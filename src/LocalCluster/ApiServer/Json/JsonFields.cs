using System.Text.Json;
using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer.Json;

/// <summary>
/// Typed reads of one field of a stored object. Every reader answers "absent" (null or false) for a
/// missing field and for a field of the wrong JSON kind alike: the callers validate, route or patch
/// objects clients wrote, so a wrong kind must never throw out of the request.
/// </summary>
internal static class JsonFields
{
    public static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static bool Bool(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    /// <summary>An integer, also when written as a whole float (1.0), as Go's decoder accepts; null otherwise.</summary>
    public static long? Long(JsonNode? node)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            return null;
        }

        return v.TryGetValue<long>(out var l) ? l
            : v.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) < 9e15 ? (long)d
            : null;
    }
}
