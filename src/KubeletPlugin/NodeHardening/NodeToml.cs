using System.Text;
using Tomlyn;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>
/// Parses a node TOML file (toolkit, containerd, CRI-O) with Tomlyn's syntax parser (no reflection,
/// Native-AOT clean) into a flat <see cref="TomlConfig"/>, bounded: UTF-8 only, nesting of arrays
/// and inline tables at most <see cref="MaxNesting"/> (checked by a scan before the recursive parser
/// sees the text, so a hostile file cannot exhaust the stack), at most <see cref="MaxEntries"/>
/// leaves, keys of at most <see cref="MaxKeyLength"/> characters. Never throws: a file it cannot
/// read is an error result that names the file and the limit.
/// This is also the entry point for fuzzing (any bytes in, a result out).
/// </summary>
public static class NodeToml
{
    public const int MaxNesting = 16;
    public const int MaxEntries = 4096;
    public const int MaxKeyLength = 256;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static NodeTomlResult Parse(ReadOnlySpan<byte> bytes, string source)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return NodeTomlResult.Fail($"{source}: not valid UTF-8");
        }

        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        if (MaxBracketNesting(text) is var depth && depth > MaxNesting)
        {
            return NodeTomlResult.Fail($"{source}: arrays or inline tables nested deeper than {MaxNesting}");
        }

        DocumentSyntax doc;
        try
        {
            doc = SyntaxParser.Parse(text, source, validate: true);
        }
        catch (Exception ex) when (ex is TomlException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            return NodeTomlResult.Fail($"{source}: not valid TOML ({Flatten(ex.Message)})");
        }

        if (doc.HasErrors)
        {
            var first = doc.Diagnostics.FirstOrDefault(d => d.Kind == DiagnosticMessageKind.Error);
            return NodeTomlResult.Fail($"{source}: not valid TOML ({Flatten(first?.ToString() ?? "syntax error")})");
        }

        var config = new TomlConfig();
        var flattener = new Flattener(config, source);
        var error = flattener.AddItems([], doc.KeyValues);
        foreach (var table in doc.Tables)
        {
            if (error is not null)
            {
                break;
            }

            if (table is null)
            {
                continue;
            }

            var name = flattener.KeyPath([], table.Name, out error);
            error ??= flattener.AddItems(name ?? [], table.Items);
        }

        return error is null ? NodeTomlResult.Ok(config) : NodeTomlResult.Fail(error);
    }

    /// <summary>Deepest nesting of [ and { outside strings and comments (table headers count too, harmlessly).</summary>
    internal static int MaxBracketNesting(string text)
    {
        var depth = 0;
        var max = 0;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '#')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }

                continue;
            }

            if (c is '"' or '\'')
            {
                var triple = i + 2 < text.Length && text[i + 1] == c && text[i + 2] == c;
                i += triple ? 3 : 1;
                while (i < text.Length)
                {
                    if (c == '"' && text[i] == '\\')
                    {
                        i += 2;
                        continue;
                    }

                    if (text[i] == c && (!triple || (i + 2 < text.Length && text[i + 1] == c && text[i + 2] == c)))
                    {
                        i += triple ? 3 : 1;
                        break;
                    }

                    if (!triple && text[i] == '\n')
                    {
                        break;
                    }

                    i++;
                }

                continue;
            }

            if (c is '[' or '{')
            {
                depth++;
                max = Math.Max(max, depth);
            }
            else if (c is ']' or '}')
            {
                depth = Math.Max(0, depth - 1);
            }

            i++;
        }

        return max;
    }

    private static string Flatten(string message)
    {
        var line = message.ReplaceLineEndings(" ");
        return line.Length <= 200 ? line : line[..200] + "…";
    }

    private sealed class Flattener(TomlConfig config, string source)
    {
        private int _count;

        public string? AddItems(IReadOnlyList<string> prefix, SyntaxList<KeyValueSyntax> items)
        {
            foreach (var kv in items)
            {
                if (kv is null)
                {
                    continue;
                }

                var path = KeyPath(prefix, kv.Key, out var error);
                if (error is not null)
                {
                    return error;
                }

                error = AddValue(path!, kv.Value, 0);
                if (error is not null)
                {
                    return error;
                }
            }

            return null;
        }

        public List<string>? KeyPath(IReadOnlyList<string> prefix, KeySyntax? key, out string? error)
        {
            error = null;
            var path = new List<string>(prefix);
            if (key is null)
            {
                return path;
            }

            foreach (var part in new[] { key.Key }.Concat(key.DotKeys.Select(d => d?.Key)))
            {
                var text = part switch
                {
                    BareKeySyntax bare => bare.Key?.Text ?? "",
                    StringValueSyntax s => s.Value ?? "",
                    _ => "",
                };
                if (text.Length > MaxKeyLength)
                {
                    error = $"{source}: a key is longer than {MaxKeyLength} characters";
                    return null;
                }

                path.Add(text);
            }

            if (path.Count > MaxNesting * 2)
            {
                error = $"{source}: a key path has more than {MaxNesting * 2} parts";
                return null;
            }

            return path;
        }

        private string? AddValue(List<string> path, ValueSyntax? value, int depth)
        {
            if (++_count > MaxEntries)
            {
                return $"{source}: more than {MaxEntries} values";
            }

            switch (value)
            {
                case InlineTableSyntax table:
                    foreach (var item in table.Items)
                    {
                        if (item?.KeyValue is not { } kv)
                        {
                            continue;
                        }

                        var sub = KeyPath(path, kv.Key, out var error);
                        error ??= AddValue(sub!, kv.Value, depth + 1);
                        if (error is not null)
                        {
                            return error;
                        }
                    }

                    return null;
                default:
                    config.Add(path, Leaf(value, depth));
                    return null;
            }
        }

        private TomlValue Leaf(ValueSyntax? value, int depth) => value switch
        {
            StringValueSyntax s => new TomlValue(TomlValueKind.String, s.Value ?? ""),
            BooleanValueSyntax b => new TomlValue(TomlValueKind.Boolean, b.Value ? "true" : "false", b.Value),
            IntegerValueSyntax n => new TomlValue(TomlValueKind.Integer, n.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ArraySyntax a when depth < MaxNesting => new TomlValue(TomlValueKind.Array, "[…]", Items: [.. a.Items.Where(i => i is not null).Select(i => Leaf(i!.Value, depth + 1))]),
            _ => new TomlValue(TomlValueKind.Other, value?.ToString() ?? ""),
        };
    }
}

/// <summary>A parsed node TOML file, or the one-line reason it could not be parsed.</summary>
public sealed record NodeTomlResult(TomlConfig? Config, string? Error)
{
    public static NodeTomlResult Ok(TomlConfig config) => new(config, null);

    public static NodeTomlResult Fail(string error) => new(null, error);
}
