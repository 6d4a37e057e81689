using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SecureDra.Kube.Resources.Wire;

/// <summary>
/// Field access on API objects that turns every shape problem — wrong type, missing required field,
/// a duplicate key (JsonObject throws ArgumentException when it materializes one), a name or string
/// that is not valid UTF-8 or holds a lone surrogate escape — into a <see cref="KubeObjectFormatException"/>
/// naming the field path.
/// </summary>
/// <remarks>
/// <c>JsonNode.Parse</c> is lazy: it accepts invalid UTF-8 bytes and <c>\uDC00</c>-style lone surrogates
/// inside strings, and fails only when a property name or string is materialised, with
/// InvalidOperationException (issue 16 defect 1). So every materialisation goes through here.
/// </remarks>
internal static class JsonRead
{
    public static JsonNode? Get(JsonObject obj, string name, string path)
    {
        try
        {
            return obj[name];
        }
        catch (ArgumentException ex)
        {
            throw new KubeObjectFormatException(path, $"duplicate key ({ex.Message})", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw InvalidText(path, "a property name", ex);
        }
    }

    public static JsonObject? Object(JsonObject obj, string name, string path) => Get(obj, name, path) switch
    {
        null => null,
        JsonObject o => o,
        _ => throw new KubeObjectFormatException($"{path}.{name}", "expected an object"),
    };

    public static JsonObject RequiredObject(JsonObject obj, string name, string path) =>
        Object(obj, name, path) ?? throw new KubeObjectFormatException($"{path}.{name}", "is required");

    public static JsonArray? Array(JsonObject obj, string name, string path) => Get(obj, name, path) switch
    {
        null => null,
        JsonArray a => a,
        _ => throw new KubeObjectFormatException($"{path}.{name}", "expected an array"),
    };

    public static IEnumerable<(JsonObject Item, string Path)> Objects(JsonObject obj, string name, string path)
    {
        var array = Array(obj, name, path);
        if (array is null)
        {
            yield break;
        }

        for (var i = 0; i < array.Count; i++)
        {
            var itemPath = $"{path}.{name}[{i}]";
            yield return (array[i] as JsonObject ?? throw new KubeObjectFormatException(itemPath, "expected an object"), itemPath);
        }
    }

    public static IEnumerable<(string Key, JsonNode? Value)> Properties(JsonObject obj, string path)
    {
        List<KeyValuePair<string, JsonNode?>> items;
        try
        {
            items = [.. obj];
        }
        catch (ArgumentException ex)
        {
            throw new KubeObjectFormatException(path, $"duplicate key ({ex.Message})", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw InvalidText(path, "a property name", ex);
        }

        foreach (var (key, value) in items)
        {
            yield return (key, value);
        }
    }

    public static string? String(JsonObject obj, string name, string path)
    {
        var node = Get(obj, name, path);
        if (node is null)
        {
            return null;
        }

        return node is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? Text(v, $"{path}.{name}")
            : throw new KubeObjectFormatException($"{path}.{name}", "expected a string");
    }

    /// <summary>The string value of <paramref name="value"/>, or a format error when it is not valid UTF-8 / Unicode.</summary>
    public static string Text(JsonValue value, string field)
    {
        ArgumentNullException.ThrowIfNull(value);
        try
        {
            return value.GetValue<string>();
        }
        catch (InvalidOperationException ex)
        {
            throw InvalidText(field, "the string", ex);
        }
    }

    public static string RequiredString(JsonObject obj, string name, string path) =>
        String(obj, name, path) is { Length: > 0 } s ? s : throw new KubeObjectFormatException($"{path}.{name}", "is required");

    public static bool Bool(JsonObject obj, string name, string path)
    {
        var node = Get(obj, name, path);
        return node switch
        {
            null => false,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            _ => throw new KubeObjectFormatException($"{path}.{name}", "expected true or false"),
        };
    }

    public static long? Long(JsonObject obj, string name, string path)
    {
        var node = Get(obj, name, path);
        if (node is null)
        {
            return null;
        }

        return node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var l)
            ? l
            : node is JsonValue n && n.GetValueKind() == JsonValueKind.Number && long.TryParse(n.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw new KubeObjectFormatException($"{path}.{name}", "expected an integer");
    }

    public static IReadOnlyList<string> Strings(JsonObject obj, string name, string path)
    {
        var array = Array(obj, name, path);
        if (array is null)
        {
            return [];
        }

        var result = new List<string>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            result.Add(array[i] is JsonValue v && v.GetValueKind() == JsonValueKind.String
                ? Text(v, $"{path}.{name}[{i}]")
                : throw new KubeObjectFormatException($"{path}.{name}[{i}]", "expected a string"));
        }

        return result;
    }

    /// <summary>The exact JSON the API server sent for this node, without materializing it (so duplicate keys inside survive).</summary>
    public static string? RawText(JsonObject obj, string name, string path)
    {
        var node = Get(obj, name, path);
        try
        {
            return node?.ToJsonString();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or JsonException)
        {
            throw new KubeObjectFormatException($"{path}.{name}", $"cannot be read as JSON text ({ex.Message})", ex);
        }
    }

    private static KubeObjectFormatException InvalidText(string field, string what, Exception inner) =>
        new(field, $"{what} is not valid UTF-8 or holds a lone surrogate escape", inner);
}
