using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SecureDra.Fuzz.Oracles;

/// <summary>Checks on a JSON tree a parser produced: depth, node count, finite numbers, valid Unicode everywhere.</summary>
public static class JsonTreeFacts
{
    /// <summary>Null when the tree keeps every rule, else the first rule it breaks.</summary>
    public static string? Violation(JsonNode? node, int maxDepth, ref int nodes, int depth = 1)
    {
        nodes++;
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                if (depth > maxDepth)
                {
                    return $"over-limit depth {depth} > {maxDepth}";
                }

                foreach (var (key, value) in obj)
                {
                    if (HasLoneSurrogate(key))
                    {
                        return "a key with a lone surrogate";
                    }

                    nodes++;
                    if (Violation(value, maxDepth, ref nodes, depth + 1) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonArray array:
                if (depth > maxDepth)
                {
                    return $"over-limit depth {depth} > {maxDepth}";
                }

                foreach (var item in array)
                {
                    if (Violation(item, maxDepth, ref nodes, depth + 1) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                var scalar = (JsonValue)node;
                switch (scalar.GetValueKind())
                {
                    case JsonValueKind.Number:
                        var text = scalar.ToJsonString();
                        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
                            ? null
                            : $"the non-finite number {text}";
                    case JsonValueKind.String:
                        return HasLoneSurrogate(scalar.GetValue<string>()) ? "a string with a lone surrogate" : null;
                    default:
                        return null;
                }
        }
    }

    public static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }
}
