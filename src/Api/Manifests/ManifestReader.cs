using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SecureDra.Api.Validation;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace SecureDra.Api.Manifests;

/// <summary>
/// Reads a multi-document YAML (or JSON) manifest file into one <see cref="JsonObject"/> per
/// document, strictly and within <see cref="ManifestLimits"/>. It walks YamlDotNet's event parser
/// (no reflection, AOT-clean) and builds the JSON itself, so it can refuse what Kubernetes tooling
/// would read differently or what could blow up:
/// <list type="bullet">
/// <item>duplicate keys (the document is dropped with an error naming the key);</item>
/// <item>anchors, aliases and <c>&lt;&lt;</c> merge keys (no billion laughs, no hidden fields);</item>
/// <item>tags other than <c>!!str</c>; non-scalar keys; <c>.nan</c> and <c>.inf</c>;</item>
/// <item>plain <c>yes/no/on/off/y/n</c>, which YAML 1.1 readers (kubectl's) take as booleans: quote them;</item>
/// <item>invalid UTF-8, and files, depths, node or document counts over the limits.</item>
/// </list>
/// Plain scalars are typed by the YAML 1.2 core schema: <c>true/false</c> → boolean, <c>null/~/</c>empty → null,
/// integers → numbers, floats → numbers written as given (so <c>1.0</c> stays a float for a strict
/// decoder to reject where an integer is meant); anything quoted, literal or folded is a string.
/// </summary>
public sealed partial class ManifestReader(ManifestLimits limits)
{
    private const string StrTag = "tag:yaml.org,2002:str";

    public ManifestReader()
        : this(new ManifestLimits())
    {
    }

    public ManifestLimits Limits { get; } = limits ?? throw new ArgumentNullException(nameof(limits));

    /// <summary>
    /// Reads a file, taking at most <see cref="ManifestLimits.MaxBytes"/> + 1 bytes from it.
    /// Bad content is reported in the result; I/O failures (missing file, no permission) throw.
    /// </summary>
    public async Task<ManifestReadResult> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            var input = await BoundedInput.ReadAtMostAsync(stream, Limits.MaxBytes, cancellationToken).ConfigureAwait(false);
            return input.ExceedsLimit ? TooLarge() : Read(input.Span);
        }
    }

    /// <summary>Reads manifest text. Never throws for bad input.</summary>
    public ManifestReadResult Read(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > Limits.MaxBytes)
        {
            return TooLarge();
        }

        var invalidAt = JsonStringChecks.IndexOfInvalidUtf8(utf8);
        if (invalidAt >= 0)
        {
            return FileError($"invalid UTF-8 at byte {invalidAt}; manifests must be UTF-8 text");
        }

        if (utf8.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..];
        }

        var state = new ReadState(Limits, new Parser(new StringReader(Encoding.UTF8.GetString(utf8))));
        return state.ReadStream();
    }

    private ManifestReadResult TooLarge() =>
        FileError($"more than {Limits.MaxBytes} bytes exceeds the maximum {Limits.MaxBytes} bytes");

    private static ManifestReadResult FileError(string message) =>
        new([], [new ValidationError(ErrorPath.RootSymbol, message)], 0);

    [GeneratedRegex(@"^[-+]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex DecimalInteger();

    [GeneratedRegex(@"^0o[0-7]+$", RegexOptions.CultureInvariant)]
    private static partial Regex OctalInteger();

    [GeneratedRegex(@"^0x[0-9a-fA-F]+$", RegexOptions.CultureInvariant)]
    private static partial Regex HexInteger();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Float();

    [GeneratedRegex(@"^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$", RegexOptions.CultureInvariant)]
    private static partial Regex NonFinite();

    /// <summary>The mutable state of one read: the parser, the node budget, and the current document's errors.</summary>
    private sealed class ReadState(ManifestLimits limits, Parser parser)
    {
        private readonly List<ManifestDocument> _documents = [];
        private readonly List<ValidationError> _errors = [];
        private List<ValidationError>? _documentErrors;
        private int _nodes;
        private int _documentCount;

        public ManifestReadResult ReadStream()
        {
            try
            {
                parser.Consume<StreamStart>();
                while (!parser.TryConsume<StreamEnd>(out _))
                {
                    ReadDocument();
                }
            }
            catch (ManifestLimitException ex)
            {
                _errors.Add(new ValidationError(ex.Path, ex.Message));
            }
            catch (YamlException ex)
            {
                var at = _documentCount > 0 ? ErrorPath.Index("document", _documentCount - 1) : ErrorPath.RootSymbol;
                _errors.Add(new ValidationError(at, $"invalid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {Sanitize(ex.Message)}"));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // YamlDotNet throws plain exceptions for some malformed input (e.g. an invalid
                // surrogate escape gives ArgumentOutOfRangeException): still bad input, not a crash.
                var at = _documentCount > 0 ? ErrorPath.Index("document", _documentCount - 1) : ErrorPath.RootSymbol;
                _errors.Add(new ValidationError(at, $"invalid YAML: {Sanitize(ex.Message)}"));
            }

            return new ManifestReadResult(_documents, _errors, _documentCount);
        }

        private void ReadDocument()
        {
            var start = parser.Consume<DocumentStart>();
            var index = _documentCount++;
            if (_documentCount > limits.MaxDocuments)
            {
                throw new ManifestLimitException(ErrorPath.RootSymbol, $"more than {limits.MaxDocuments} documents exceeds the maximum {limits.MaxDocuments}");
            }

            _documentErrors = null;
            var path = ErrorPath.Index("document", index);
            var node = ReadNode(path, 1);
            parser.Consume<DocumentEnd>();

            if (node is null && _documentErrors is not { Count: > 0 })
            {
                // An empty document ("---" with nothing after it) is not an object and not an error.
                _documentCount--;
                return;
            }

            // A root scalar that failed to convert (.nan, an out-of-range hex integer) also reads as null:
            // its errors must be reported, not dropped with the "empty" document (issue 16 defect 3).
            if (node is not null and not JsonObject)
            {
                AddError(path, $"must be a mapping (an object), got {Describe(node)}");
            }

            if (_documentErrors is { Count: > 0 })
            {
                _errors.AddRange(_documentErrors);
                return;
            }

            _documents.Add(new ManifestDocument(index, (int)start.Start.Line, (JsonObject)node!));
        }

        private JsonNode? ReadNode(string path, int depth)
        {
            var parsingEvent = parser.Current ?? throw new ManifestLimitException(path, "unexpected end of the YAML stream");
            if (++_nodes > limits.MaxNodes)
            {
                throw new ManifestLimitException(path, $"more than {limits.MaxNodes} nodes exceeds the maximum {limits.MaxNodes}");
            }

            if (parsingEvent is AnchorAlias)
            {
                throw new ManifestLimitException(path, $"YAML aliases are not supported (line {parsingEvent.Start.Line}); write the value out");
            }

            if (parsingEvent is NodeEvent { Anchor.IsEmpty: false })
            {
                throw new ManifestLimitException(path, $"YAML anchors are not supported (line {parsingEvent.Start.Line}); write the value out");
            }

            if (depth > limits.MaxDepth && parsingEvent is MappingStart or SequenceStart)
            {
                throw new ManifestLimitException(path, $"nesting depth {depth} exceeds the maximum {limits.MaxDepth}");
            }

            switch (parsingEvent)
            {
                case Scalar scalar:
                    parser.MoveNext();
                    return ConvertScalar(scalar, path);
                case SequenceStart sequence:
                    {
                        RejectTag(sequence.Tag, path, sequence.Start);
                        parser.MoveNext();
                        var array = new JsonArray();
                        while (!parser.TryConsume<SequenceEnd>(out _))
                        {
                            array.Add(ReadNode(ErrorPath.Index(path, array.Count), depth + 1));
                        }

                        return array;
                    }

                case MappingStart mapping:
                    {
                        RejectTag(mapping.Tag, path, mapping.Start);
                        parser.MoveNext();
                        var obj = new JsonObject();
                        while (!parser.TryConsume<MappingEnd>(out _))
                        {
                            var key = ReadKey(path);
                            var childPath = ErrorPath.Child(path, key);
                            var line = parser.Current?.Start.Line ?? 0;
                            var value = ReadNode(childPath, depth + 1);
                            if (obj.ContainsKey(key))
                            {
                                AddError(childPath, $"duplicate key (line {line}); each key may appear at most once");
                                continue;
                            }

                            obj[key] = value;
                        }

                        return obj;
                    }

                default:
                    throw new ManifestLimitException(path, $"unexpected YAML event {parsingEvent.GetType().Name} at line {parsingEvent.Start.Line}");
            }
        }

        private string ReadKey(string path)
        {
            var keyEvent = parser.Current;
            if (keyEvent is not Scalar scalar)
            {
                throw new ManifestLimitException(path, $"mapping keys must be plain strings (line {keyEvent?.Start.Line})");
            }

            if (++_nodes > limits.MaxNodes)
            {
                throw new ManifestLimitException(path, $"more than {limits.MaxNodes} nodes exceeds the maximum {limits.MaxNodes}");
            }

            if (!scalar.Anchor.IsEmpty)
            {
                throw new ManifestLimitException(path, $"YAML anchors are not supported (line {scalar.Start.Line}); write the value out");
            }

            parser.MoveNext();
            if (scalar.Style == ScalarStyle.Plain && scalar.Value == "<<")
            {
                throw new ManifestLimitException(path, $"YAML merge keys (<<) are not supported (line {scalar.Start.Line}); write the fields out");
            }

            if (HasLoneSurrogate(scalar.Value))
            {
                throw new ManifestLimitException(path, $"a key contains a lone surrogate (line {scalar.Start.Line}); keys must be valid Unicode");
            }

            var keyPath = ErrorPath.Child(path, scalar.Value);
            RejectTag(scalar.Tag, keyPath, scalar.Start);
            if (scalar.Style == ScalarStyle.Plain && scalar.Tag.IsEmpty && IsYaml11Boolean(scalar.Value))
            {
                AddError(keyPath, $"the plain key {DisplayText.Quote(scalar.Value)} is a boolean to YAML 1.1 readers such as kubectl (line {scalar.Start.Line}); quote it");
            }

            return scalar.Value;
        }

        private JsonNode? ConvertScalar(Scalar scalar, string path)
        {
            RejectTag(scalar.Tag, path, scalar.Start);
            var text = scalar.Value;
            if (HasLoneSurrogate(text))
            {
                AddError(path, $"a string contains a lone surrogate (line {scalar.Start.Line}); strings must be valid Unicode");
                return null;
            }

            if (scalar.Style != ScalarStyle.Plain || !scalar.Tag.IsEmpty)
            {
                return JsonValue.Create(text);
            }

            switch (text)
            {
                case "" or "~" or "null" or "Null" or "NULL":
                    return null;
                case "true" or "True" or "TRUE":
                    return JsonValue.Create(true);
                case "false" or "False" or "FALSE":
                    return JsonValue.Create(false);
            }

            if (IsYaml11Boolean(text))
            {
                AddError(path, $"the plain value {DisplayText.Quote(text)} is a boolean to YAML 1.1 readers such as kubectl (line {scalar.Start.Line}); quote it, or write true or false");
                return JsonValue.Create(text);
            }

            if (DecimalInteger().IsMatch(text))
            {
                return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                    ? JsonValue.Create(value)
                    : FiniteNumber(text, scalar, path);
            }

            if (OctalInteger().IsMatch(text) || HexInteger().IsMatch(text))
            {
                var isHex = text[1] == 'x';
                try
                {
                    return JsonValue.Create(Convert.ToInt64(text[2..], isHex ? 16 : 8));
                }
                catch (OverflowException)
                {
                    AddError(path, $"the integer {DisplayText.Quote(text)} is outside the 64-bit range (line {scalar.Start.Line})");
                    return null;
                }
            }

            if (Float().IsMatch(text))
            {
                // Parsed from text the value keeps what was written, so "1.0" stays a float.
                return FiniteNumber(text, scalar, path);
            }

            if (NonFinite().IsMatch(text))
            {
                AddError(path, $"{DisplayText.Quote(text)} is not allowed; JSON has no NaN or Infinity (line {scalar.Start.Line})");
                return null;
            }

            return JsonValue.Create(text);
        }

        /// <summary>
        /// The number as JSON, or an error when no 64-bit float holds it: <c>1e400</c> is as non-finite as
        /// <c>.inf</c> to every reader that turns it into a double (found by fuzzing).
        /// </summary>
        private JsonNode? FiniteNumber(string text, Scalar scalar, string path)
        {
            var normalized = NormalizeNumber(text);
            if (!double.TryParse(normalized, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                AddError(path, $"the number {DisplayText.Quote(text)} is outside the range of a 64-bit float (line {scalar.Start.Line})");
                return null;
            }

            return JsonNode.Parse(normalized);
        }

        private void RejectTag(TagName tag, string path, Mark start)
        {
            if (!tag.IsEmpty && !tag.IsNonSpecific && tag.Value != StrTag)
            {
                throw new ManifestLimitException(path, $"the YAML tag {DisplayText.Quote(tag.Value)} is not supported (line {start.Line}); only !!str is");
            }
        }

        private void AddError(string path, string message)
        {
            _documentErrors ??= [];
            if (_documentErrors.Count < 64)
            {
                _documentErrors.Add(new ValidationError(path, message));
            }
        }

        private static bool HasLoneSurrogate(string text)
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

        private static bool IsYaml11Boolean(string text) =>
            text is "y" or "Y" or "yes" or "Yes" or "YES" or "n" or "N" or "no" or "No" or "NO"
                or "on" or "On" or "ON" or "off" or "Off" or "OFF";

        /// <summary>Rewrites a YAML number as JSON number syntax, keeping its digits, fraction and exponent.</summary>
        private static string NormalizeNumber(string text)
        {
            var negative = text.StartsWith('-');
            var body = text.TrimStart('+', '-');
            var exponentAt = body.IndexOfAny(['e', 'E']);
            var mantissa = exponentAt >= 0 ? body[..exponentAt] : body;
            var exponent = exponentAt >= 0 ? body[exponentAt..] : string.Empty;
            var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
            var integerPart = (dot >= 0 ? mantissa[..dot] : mantissa).TrimStart('0');
            var fraction = dot >= 0 ? mantissa[(dot + 1)..] : null;
            var builder = new StringBuilder(text.Length + 2);
            if (negative)
            {
                builder.Append('-');
            }

            builder.Append(integerPart.Length == 0 ? "0" : integerPart);
            if (fraction is not null)
            {
                builder.Append('.').Append(fraction.Length == 0 ? "0" : fraction);
            }

            return builder.Append(exponent).ToString();
        }

        private static string Describe(JsonNode node) => node switch
        {
            JsonArray => "a sequence",
            JsonObject => "a mapping",
            _ => "a scalar",
        };

        private static string Sanitize(string message)
        {
            var chars = message.ToCharArray();
            for (var i = 0; i < chars.Length; i++)
            {
                if (char.IsControl(chars[i]))
                {
                    chars[i] = ' ';
                }
            }

            return new string(chars, 0, Math.Min(chars.Length, 200));
        }
    }

    /// <summary>A limit or unsupported construct that ends the whole read.</summary>
    private sealed class ManifestLimitException(string path, string message) : Exception(message)
    {
        public string Path { get; } = path;
    }
}
