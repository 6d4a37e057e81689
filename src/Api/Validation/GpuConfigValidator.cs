using System.Text.Json;
using SecureDra.Api.Config;

namespace SecureDra.Api.Validation;

/// <summary>
/// The strict, bounded GpuConfig decoder. It checks the size on the span length before it reads a
/// single byte, then walks the JSON once with <see cref="Utf8JsonReader"/> (no reflection, no DOM):
/// a valid config allocates only its result. Field errors (unknown field, duplicate key, wrong
/// type, value out of range) are all collected; structural errors (size, UTF-8, malformed JSON,
/// depth, counts, lengths) stop the walk, because what follows them cannot be trusted.
/// </summary>
/// <remarks>
/// <c>resetPolicy</c> accepts only ZeroVRAMOnRelease: every device is scrubbed before reuse and no
/// config can turn that off. The removed sharing fields are unknown fields whose error says why they
/// went. Depth, string, array and property limits apply to the whole document,
/// including the values of unknown fields (which are rejected anyway), so skipping them is bounded too.
/// </remarks>
public sealed class GpuConfigValidator(GpuConfigLimits limits) : IGpuConfigValidator
{
    /// <summary>Stops a hostile input from producing an unbounded error list.</summary>
    public const int MaxErrors = 64;

    // Above this the per-level counters would no longer fit comfortably on the stack.
    private const int DepthCeiling = 256;

    public GpuConfigLimits Limits { get; } = limits ?? throw new ArgumentNullException(nameof(limits));

    public GpuConfigDecodeResult Decode(ReadOnlySpan<byte> parametersJson, string path, ConfigOrigin origin)
    {
        var root = ErrorPath.Root(path);
        if (parametersJson.Length > Limits.MaxBytes)
        {
            return Fail(root, $"{parametersJson.Length} bytes exceeds the maximum {Limits.MaxBytes} bytes");
        }

        var invalidAt = JsonStringChecks.IndexOfInvalidUtf8(parametersJson);
        if (invalidAt >= 0)
        {
            return Fail(root, $"invalid UTF-8 at byte {invalidAt}; the config must be valid UTF-8 text");
        }

        if (parametersJson.Trim(" \t\r\n"u8).IsEmpty)
        {
            return Fail(root, "empty; the config must be a JSON object");
        }

        var maxDepth = Math.Clamp(Limits.MaxDepth, 1, DepthCeiling);
        var reader = new Utf8JsonReader(parametersJson, new JsonReaderOptions
        {
            // One above ours, so our own check (which names the limit) fires first.
            MaxDepth = maxDepth + 1,
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
        });

        var errors = new ErrorSink();
        try
        {
            return DecodeDocument(ref reader, root, origin, maxDepth, ref errors);
        }
        catch (JsonException ex)
        {
            errors.Add(root, $"malformed JSON at line {(ex.LineNumber ?? 0) + 1}, byte {ex.BytePositionInLine ?? 0}; the config must be one JSON object (no comments, NaN, Infinity or trailing commas)");
            return new GpuConfigDecodeResult(null, errors.ToList());
        }
    }

    private GpuConfigDecodeResult DecodeDocument(ref Utf8JsonReader reader, string root, ConfigOrigin origin, int maxDepth, ref ErrorSink errors)
    {
        if (!reader.Read())
        {
            return Fail(root, "empty; the config must be a JSON object");
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return Fail(root, $"must be a JSON object, got {Describe(reader.TokenType)}");
        }

        Span<int> counts = stackalloc int[maxDepth + 2];
        var fields = new FieldState();
        var properties = 0;
        while (true)
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            if (++properties > Limits.MaxProperties)
            {
                errors.Add(root, $"more than {Limits.MaxProperties} properties exceeds the maximum {Limits.MaxProperties}");
                return errors.Result();
            }

            if (!CheckString(ref reader, root, "property name", ref errors))
            {
                return errors.Result();
            }

            var field = Match(ref reader);
            // The path string is built only if an error needs it: a valid config allocates nothing here.
            var fieldPath = new FieldPath(root, field == Field.Unknown ? SafeGetString(ref reader) : FieldName(field));
            reader.Read();

            if (field == Field.Unknown)
            {
                var removed = GpuConfigSchema.RemovedFieldReason(fieldPath.Name ?? "");
                errors.Add(fieldPath, removed is null
                    ? $"unknown field; the allowed fields are {GpuConfigSchema.AllowedFields}"
                    : $"unknown field ({removed}); the allowed fields are {GpuConfigSchema.AllowedFields}");
            }
            else if (!fields.MarkSeen(field))
            {
                errors.Add(fieldPath, "duplicate key; each key may appear at most once");
            }
            else
            {
                ReadField(ref reader, field, fieldPath, ref fields, ref errors);
            }

            if (!SkipValue(ref reader, fieldPath, maxDepth, counts, ref errors))
            {
                return errors.Result();
            }
        }

        // A second top-level value, or garbage after the object, makes the reader throw here.
        if (reader.Read())
        {
            return Fail(root, "unexpected content after the config object");
        }

        CheckSemantics(root, origin, ref fields, ref errors);
        if (errors.Count > 0)
        {
            return errors.Result();
        }

        return new GpuConfigDecodeResult(new GpuConfig(fields.ResetPolicy), []);
    }

    /// <summary>Checks one known field against its row of <see cref="GpuConfigSchema.Table"/>.</summary>
    private void ReadField(ref Utf8JsonReader reader, Field field, FieldPath path, ref FieldState fields, ref ErrorSink errors)
    {
        if (!ExpectString(ref reader, path, ref errors))
        {
            return;
        }

        var rule = Rule(field);
        if (field == Field.ResetPolicy && reader.ValueTextEquals(GpuConfigSchema.ResetPolicyNone))
        {
            // Reported by CheckSemantics, whose message depends on where the config came from.
            fields.ResetPolicyNone = true;
        }
        else if (!reader.ValueTextEquals(rule.Value))
        {
            errors.Add(path, $"{SafeDisplay(ref reader)} is not supported; {rule.Expectation}");
        }
    }

    private static void CheckSemantics(string root, ConfigOrigin origin, ref FieldState fields, ref ErrorSink errors)
    {
        for (var i = 0; i < GpuConfigSchema.Table.Count; i++)
        {
            var rule = GpuConfigSchema.Table[i];
            if (rule.Required && !fields.IsSeen(FieldAt(i)))
            {
                errors.Add(ErrorPath.Child(root, rule.Name), $"required; {rule.Expectation}");
            }
        }

        if (fields.ResetPolicyNone)
        {
            var resetPath = ErrorPath.Child(root, GpuConfigSchema.ResetPolicyField);
            errors.Add(resetPath, origin == ConfigOrigin.Claim
                ? $"{GpuConfigSchema.ResetPolicyNone} is not allowed in a claim; a claim may only set {DriverConstants.ZeroVramOnRelease}"
                : $"{GpuConfigSchema.ResetPolicyNone} is not supported: no DeviceClass can turn off the VRAM scrub (--allow-class-reset-policy-override was removed); only {DriverConstants.ZeroVramOnRelease} is allowed");
        }
    }

    private bool ExpectString(ref Utf8JsonReader reader, FieldPath path, ref ErrorSink errors)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            errors.Add(path, $"must be a string, got {Describe(reader.TokenType)}");
            return false;
        }

        // Length and escapes are checked (and reported) by SkipValue for every string.
        return IsWellFormedString(ref reader);
    }

    /// <summary>
    /// Moves past the value the reader is on, enforcing depth, per-container counts and string limits.
    /// Returns false after recording a structural error.
    /// </summary>
    /// <remarks>
    /// Level L is a container's nesting depth (the config object is level 1); the reader reports
    /// CurrentDepth = L for the items of a level-L container and L - 1 for its own start token.
    /// </remarks>
    private bool SkipValue(ref Utf8JsonReader reader, FieldPath path, int maxDepth, scoped Span<int> counts, ref ErrorSink errors)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return CheckString(ref reader, path, "string", ref errors);
            case JsonTokenType.StartObject:
            case JsonTokenType.StartArray:
                break;
            default:
                return true;
        }

        Span<bool> isArray = stackalloc bool[counts.Length];
        var baseDepth = reader.CurrentDepth;
        while (true)
        {
            var level = reader.CurrentDepth;
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                case JsonTokenType.StartArray:
                    {
                        if (level > baseDepth && !CountElement(level, isArray, counts, path, ref errors))
                        {
                            return false;
                        }

                        var depth = level + 1;
                        if (depth > maxDepth)
                        {
                            errors.Add(path, $"nesting depth {depth} exceeds the maximum {maxDepth}");
                            return false;
                        }

                        counts[depth] = 0;
                        isArray[depth] = reader.TokenType == JsonTokenType.StartArray;
                        break;
                    }

                case JsonTokenType.PropertyName:
                    if (++counts[level] > Limits.MaxProperties)
                    {
                        errors.Add(path, $"an object with more than {Limits.MaxProperties} properties exceeds the maximum {Limits.MaxProperties}");
                        return false;
                    }

                    if (!CheckString(ref reader, path, "property name", ref errors))
                    {
                        return false;
                    }

                    break;
                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    if (level == baseDepth)
                    {
                        return true;
                    }

                    break;
                default:
                    if (!CountElement(level, isArray, counts, path, ref errors)
                        || (reader.TokenType == JsonTokenType.String && !CheckString(ref reader, path, "string", ref errors)))
                    {
                        return false;
                    }

                    break;
            }

            reader.Read();
        }
    }

    // Values inside an array are its elements; values inside an object were counted with their property name.
    private bool CountElement(int level, scoped Span<bool> isArray, scoped Span<int> counts, FieldPath path, ref ErrorSink errors)
    {
        if (!isArray[level] || ++counts[level] <= Limits.MaxArrayLength)
        {
            return true;
        }

        errors.Add(path, $"an array with more than {Limits.MaxArrayLength} items exceeds the maximum {Limits.MaxArrayLength}");
        return false;
    }

    private bool CheckString(ref Utf8JsonReader reader, FieldPath path, string what, ref ErrorSink errors)
    {
        if (JsonStringChecks.StringProblem(ref reader, Limits.MaxStringLength, what) is { } problem)
        {
            errors.Add(path, problem);
            return false;
        }

        return true;
    }

    private bool IsWellFormedString(ref Utf8JsonReader reader)
    {
        var raw = reader.ValueSpan;
        var length = raw.Length;
        return (!reader.ValueIsEscaped || JsonStringChecks.TryMeasureEscaped(raw, out length)) && length <= Limits.MaxStringLength;
    }

    private static Field Match(ref Utf8JsonReader reader)
    {
        for (var i = 0; i < GpuConfigSchema.Table.Count; i++)
        {
            if (reader.ValueTextEquals(GpuConfigSchema.Table[i].Name))
            {
                return FieldAt(i);
            }
        }

        return Field.Unknown;
    }

    // Field values follow the table's order, after Unknown.
    private static Field FieldAt(int index) => (Field)(index + 1);

    private static GpuConfigField Rule(Field field) => GpuConfigSchema.Table[(int)field - 1];

    private static string FieldName(Field field) => Rule(field).Name;

    // Only called after CheckString, so the value is bounded and its escapes are valid.
    private static string SafeGetString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString() ?? string.Empty;
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }

    private static string SafeDisplay(ref Utf8JsonReader reader) =>
        reader.ValueSpan.Length > DisplayText.MaxDisplayChars * 4
            ? DisplayText.QuoteUtf8(reader.ValueSpan)
            : DisplayText.Quote(SafeGetString(ref reader));

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    private static GpuConfigDecodeResult Fail(string path, string message) =>
        new(null, [new ValidationError(path, message)]);

    /// <summary>A root path and an optional field name, joined only when an error is reported.</summary>
    private readonly struct FieldPath(string root, string? name)
    {
        public static implicit operator FieldPath(string root) => new(root, null);

        public string? Name => name;

        public override string ToString() => name is null ? root : ErrorPath.Child(root, name);
    }

    /// <summary>A field of <see cref="GpuConfigSchema.Table"/> by position (Unknown, then the table's rows in order).</summary>
    private enum Field
    {
        Unknown,
        ApiVersion,
        Kind,
        ResetPolicy,
    }

    private struct FieldState
    {
        private int _seen;

        public FieldState()
        {
            ResetPolicy = DriverConstants.ZeroVramOnRelease;
        }

        public string ResetPolicy;
        public bool ResetPolicyNone;

        public readonly bool IsSeen(Field field) => (_seen & (1 << (int)field)) != 0;

        public bool MarkSeen(Field field)
        {
            var bit = 1 << (int)field;
            if ((_seen & bit) != 0)
            {
                return false;
            }

            _seen |= bit;
            return true;
        }
    }

    /// <summary>Allocates its list only when there is an error, so a valid config costs nothing here.</summary>
    private struct ErrorSink
    {
        private List<ValidationError>? _errors;

        public readonly int Count => _errors?.Count ?? 0;

        public void Add(string path, string message) => Add(new FieldPath(path, null), message);

        public void Add(FieldPath path, string message)
        {
            _errors ??= [];
            if (_errors.Count < MaxErrors)
            {
                _errors.Add(new ValidationError(path.ToString(), message));
            }
        }

        public readonly IReadOnlyList<ValidationError> ToList() => _errors ?? [];

        public readonly GpuConfigDecodeResult Result() => new(null, ToList());
    }
}
