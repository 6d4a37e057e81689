using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SecureDra.Controller.Audit.Sources;

/// <summary>
/// YAML (a JSON superset) to JsonNode through YamlDotNet's RepresentationModel, which uses no reflection and so
/// stays Native-AOT clean. Plain scalars follow YAML 1.2 core schema types; quoted scalars stay strings.
/// Bounded: nesting depth and aliases are refused, so a "billion laughs" file cannot expand.
/// </summary>
public sealed class YamlManifestReader : IManifestReader
{
    private const int MaxDepth = 64;

    public IReadOnlyList<JsonObject> Read(string text, string sourceName)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new FormatException($"{sourceName}: invalid YAML at line {e.Start.Line}: {e.Message}", e);
        }

        var result = new List<JsonObject>();
        for (var i = 0; i < stream.Documents.Count; i++)
        {
            var root = stream.Documents[i].RootNode;
            if (root is YamlScalarNode { Value: null or "" })
            {
                continue;
            }

            if (Convert(root, 0, $"{sourceName} document {i + 1}") is not JsonObject obj)
            {
                throw new FormatException($"{sourceName} document {i + 1}: a manifest must be a mapping");
            }

            result.Add(obj);
        }

        return result;
    }

    private static JsonNode? Convert(YamlNode node, int depth, string where)
    {
        if (depth > MaxDepth)
        {
            throw new FormatException($"{where}: nesting deeper than {MaxDepth}");
        }

        if (!node.Anchor.IsEmpty)
        {
            // An alias is the same node object again: converting it would expand a "billion laughs" file.
            throw new FormatException($"{where}: anchors and aliases are not supported (line {node.Start.Line})");
        }

        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        throw new FormatException($"{where}: mapping keys must be scalars (line {key.Start.Line})");
                    }

                    if (obj.ContainsKey(name))
                    {
                        throw new FormatException($"{where}: duplicate key '{name}' at line {key.Start.Line}");
                    }

                    obj[name] = Convert(value, depth + 1, where);
                }

                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children)
                {
                    array.Add(Convert(item, depth + 1, where));
                }

                return array;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                throw new FormatException($"{where}: unsupported YAML node at line {node.Start.Line}");
        }
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
        {
            return JsonValue.Create(value);
        }

        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (value.Length > 0 && (char.IsDigit(value[0]) || value[0] is '-' or '+' or '.') &&
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
        {
            return JsonValue.Create(real);
        }

        return JsonValue.Create(value);
    }
}
