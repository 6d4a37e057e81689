using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>A parsed labelSelector query: =, ==, !=, in, notin, exists (key) and !key; all requirements must hold.</summary>
public sealed class LabelSelector
{
    private readonly List<Func<IReadOnlyDictionary<string, string>, bool>> _requirements = [];

    private LabelSelector()
    {
    }

    public static LabelSelector Everything { get; } = new();

    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }

        foreach (var raw in SplitTopLevel(text))
        {
            var part = raw.Trim();
            if (part.Length == 0)
            {
                throw ApiError.BadRequest($"unable to parse requirement: empty requirement in label selector \"{text}\"");
            }

            selector._requirements.Add(ParseRequirement(part, text));
        }

        return selector;
    }

    public bool Matches(JsonObject obj)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj["metadata"]?["labels"] is JsonObject map)
        {
            foreach (var (key, value) in map)
            {
                if (value is JsonValue v && v.TryGetValue<string>(out var s))
                {
                    labels[key] = s;
                }
            }
        }

        return _requirements.TrueForAll(r => r(labels));
    }

    private static Func<IReadOnlyDictionary<string, string>, bool> ParseRequirement(string part, string text)
    {
        if (part.StartsWith('!'))
        {
            var key = CheckKey(part[1..].Trim(), text);
            return labels => !labels.ContainsKey(key);
        }

        var notIn = IndexOfWord(part, "notin");
        if (notIn > 0)
        {
            var key = CheckKey(part[..notIn].Trim(), text);
            var values = ParseSet(part[(notIn + 5)..], text);
            return labels => !labels.TryGetValue(key, out var v) || !values.Contains(v);
        }

        var inIndex = IndexOfWord(part, "in");
        if (inIndex > 0)
        {
            var key = CheckKey(part[..inIndex].Trim(), text);
            var values = ParseSet(part[(inIndex + 2)..], text);
            return labels => labels.TryGetValue(key, out var v) && values.Contains(v);
        }

        var ne = part.IndexOf("!=", StringComparison.Ordinal);
        if (ne > 0)
        {
            var key = CheckKey(part[..ne].Trim(), text);
            var value = part[(ne + 2)..].Trim();
            return labels => !labels.TryGetValue(key, out var v) || v != value;
        }

        var eq = part.IndexOf('=', StringComparison.Ordinal);
        if (eq > 0)
        {
            var key = CheckKey(part[..eq].Trim(), text);
            var rest = part[(eq + 1)..];
            var value = (rest.StartsWith('=') ? rest[1..] : rest).Trim();
            return labels => labels.TryGetValue(key, out var v) && v == value;
        }

        var existsKey = CheckKey(part, text);
        return labels => labels.ContainsKey(existsKey);
    }

    private static string CheckKey(string key, string text)
    {
        if (key.Length == 0 || key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or ',' or '=' or '!'))
        {
            throw ApiError.BadRequest($"unable to parse requirement: invalid label key \"{key}\" in label selector \"{text}\"");
        }

        return key;
    }

    private static int IndexOfWord(string part, string word)
    {
        var index = part.IndexOf(" " + word + " ", StringComparison.Ordinal);
        if (index < 0)
        {
            index = part.IndexOf(" " + word + "(", StringComparison.Ordinal);
        }

        return index < 0 ? -1 : index + 1;
    }

    private static HashSet<string> ParseSet(string rest, string text)
    {
        var trimmed = rest.Trim();
        if (!trimmed.StartsWith('(') || !trimmed.EndsWith(')'))
        {
            throw ApiError.BadRequest($"unable to parse requirement: expected a parenthesised value set in label selector \"{text}\"");
        }

        return trimmed[1..^1].Split(',').Select(v => v.Trim()).Where(v => v.Length > 0).ToHashSet(StringComparer.Ordinal);
    }

    private static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    parts.Add(text[start..i]);
                    start = i + 1;
                    break;
            }
        }

        parts.Add(text[start..]);
        return parts;
    }
}
