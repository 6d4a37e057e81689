using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// A parsed fieldSelector query (=, ==, !=). Only the fields the real server indexes for the resource are
/// accepted: metadata.name and metadata.namespace everywhere, spec.nodeName and spec.driver for ResourceSlices.
/// </summary>
public sealed class FieldSelector
{
    private readonly List<(string Field, string Value, bool Equal)> _requirements = [];

    private FieldSelector()
    {
    }

    public static FieldSelector Everything { get; } = new();

    public static FieldSelector Parse(string? text, ResourceType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var selector = new FieldSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }

        foreach (var raw in text.Split(','))
        {
            var part = raw.Trim();
            string field;
            string value;
            bool equal;
            var ne = part.IndexOf("!=", StringComparison.Ordinal);
            if (ne > 0)
            {
                (field, value, equal) = (part[..ne], part[(ne + 2)..], false);
            }
            else
            {
                var eq = part.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw ApiError.BadRequest($"invalid selector: '{text}'; can't understand '{part}'");
                }

                var rest = part[(eq + 1)..];
                (field, value, equal) = (part[..eq], rest.StartsWith('=') ? rest[1..] : rest, true);
            }

            field = field.Trim();
            if (!Supported(field, type))
            {
                throw ApiError.BadRequest($"field label not supported: {field}");
            }

            selector._requirements.Add((field, value.Trim(), equal));
        }

        return selector;
    }

    public bool Matches(JsonObject obj) =>
        _requirements.TrueForAll(r => (ValueOf(obj, r.Field) == r.Value) == r.Equal);

    private static bool Supported(string field, ResourceType type) =>
        field is "metadata.name" or "metadata.namespace"
        || (type.Plural == "resourceslices" && field is "spec.nodeName" or "spec.driver")
        || (type.Plural == "events" && field.StartsWith("involvedObject.", StringComparison.Ordinal))
        || (type.Plural == "events" && field is "reason" or "type" or "source");

    private static string ValueOf(JsonObject obj, string field)
    {
        JsonNode? node = obj;
        foreach (var segment in field.Split('.'))
        {
            node = node is JsonObject o ? o[segment] : null;
        }

        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s : string.Empty;
    }
}
