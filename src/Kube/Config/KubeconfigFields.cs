using System.Text.Json;
using System.Text.Json.Nodes;

namespace SecureDra.Kube.Config;

/// <summary>
/// Typed reads of kubeconfig fields: a value of the wrong type, or a key this loader does not know, is an error
/// that names the field (<c>users[ci].user.exec.args[1]: must be a string</c>), never a silent default.
/// </summary>
internal static class KubeconfigFields
{
    public static string? String(JsonObject obj, string key, string where) => obj[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new KubeConfigException($"{where}.{key}: must be a string"),
    };

    public static bool Bool(JsonObject obj, string key, string where) => obj[key] switch
    {
        null => false,
        JsonValue v when v.GetValueKind() == JsonValueKind.True => true,
        JsonValue v when v.GetValueKind() == JsonValueKind.False => false,
        JsonValue v when v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is "true" or "false" => v.GetValue<string>() == "true",
        _ => throw new KubeConfigException($"{where}.{key}: must be true or false"),
    };

    public static JsonObject? Object(JsonObject obj, string key, string where) => obj[key] switch
    {
        null => null,
        JsonObject o => o,
        _ => throw new KubeConfigException($"{where}.{key}: must be a mapping"),
    };

    public static JsonArray? Array(JsonObject obj, string key, string where) => obj[key] switch
    {
        null => null,
        JsonArray a => a,
        _ => throw new KubeConfigException($"{where}.{key}: must be a list"),
    };

    /// <summary>Refuses keys outside <paramref name="known"/>; <paramref name="unsupported"/> keys get a message saying so.</summary>
    public static void RejectUnknown(JsonObject obj, string where, IReadOnlyCollection<string> known, IReadOnlyCollection<string>? unsupported = null)
    {
        foreach (var (key, _) in obj)
        {
            if (unsupported is not null && unsupported.Contains(key))
            {
                throw new KubeConfigException($"{Field(where, key)} is not supported by securedra");
            }

            if (!known.Contains(key))
            {
                throw new KubeConfigException($"{Field(where, Quote(key))}: unknown field");
            }
        }
    }

    /// <summary><c>where.key</c>, or <c>where key</c> for the top level (where ends in a colon).</summary>
    private static string Field(string where, string key) => where.EndsWith(':') ? $"{where} {key}" : $"{where}.{key}";

    /// <summary>A name from the file, shown so that control characters or a very long key cannot forge the message.</summary>
    public static string Quote(string text)
    {
        var shown = text.Length > 64 ? text[..64] + "…" : text;
        return shown.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or '@')
            ? shown
            : JsonValue.Create(shown).ToJsonString();
    }
}
