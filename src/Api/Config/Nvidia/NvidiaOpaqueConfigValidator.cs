using System.Globalization;
using System.Text.Json;
using SecureDra.Api.Validation;
using Schema = SecureDra.Api.Config.Nvidia.NvidiaConfigSchema;

namespace SecureDra.Api.Config.Nvidia;

/// <summary>
/// The proxy's strict, bounded decoder for NVIDIA's opaque configs (<c>resource.nvidia.com/v1beta1</c>).
/// Three passes over at most <see cref="GpuConfigLimits.MaxBytes"/> bytes: a streaming scan that enforces
/// every structural bound (size, UTF-8, syntax, depth, string length, property and item counts) before
/// anything is materialised; a walk of <see cref="NvidiaConfigSchema"/> (unknown fields, duplicate keys,
/// types, enum values, ranges); then the cross-field rules and the proxy's <see cref="NvidiaConfigPolicy"/>.
/// Stricter than the vendor where the vendor would crash, guess or silently ignore: an empty
/// <c>timeSlicingConfig</c> (its validation dereferences the missing interval), TimeSlicing without an
/// explicit interval, TimeSlicing on a MIG device (no effect), the other strategy's settings beside a
/// strategy, and null values. Never throws for bad input.
/// </summary>
public sealed class NvidiaOpaqueConfigValidator(GpuConfigLimits limits)
{
    /// <summary>Stops a hostile input from producing an unbounded error list.</summary>
    public const int MaxErrors = 64;

    private const int DepthCeiling = 64;

    public GpuConfigLimits Limits { get; } = limits ?? throw new ArgumentNullException(nameof(limits));

    /// <summary>True when the bytes name NVIDIA's config group; lets a caller route a config to this validator without decoding it twice.</summary>
    public static bool DeclaresNvidiaApiVersion(ReadOnlySpan<byte> parametersJson)
    {
        if (parametersJson.Length > DriverConstants.OpaqueParametersMaxBytes)
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(parametersJson, new JsonReaderOptions { MaxDepth = DepthCeiling });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isApiVersion = reader.ValueTextEquals(Schema.ApiVersionField);
                reader.Read();
                if (isApiVersion)
                {
                    return reader.TokenType == JsonTokenType.String
                        && reader.GetString() is { } value
                        && value.StartsWith("resource.nvidia.com/", StringComparison.Ordinal);
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        catch (InvalidOperationException)
        {
        }

        return false;
    }

    public NvidiaConfigDecodeResult Decode(ReadOnlySpan<byte> parametersJson, string path, NvidiaConfigPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var root = ErrorPath.Root(path);
        var maxBytes = Math.Min(Limits.MaxBytes, DriverConstants.OpaqueParametersMaxBytes);
        if (parametersJson.Length > maxBytes)
        {
            return Fail(root, $"{parametersJson.Length} bytes exceeds the maximum {maxBytes} bytes");
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

        var errors = new Errors();
        var maxDepth = Math.Clamp(Limits.MaxDepth, 1, DepthCeiling);
        if (!ScanBounds(parametersJson, root, maxDepth, errors))
        {
            return errors.Result();
        }

        using var document = JsonDocument.Parse(parametersJson.ToArray(), new JsonDocumentOptions
        {
            MaxDepth = maxDepth + 1,
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
        });
        var top = document.RootElement;
        if (top.ValueKind != JsonValueKind.Object)
        {
            return Fail(root, $"must be a JSON object, got {Describe(top.ValueKind)}");
        }

        var kind = ResolveKind(top, root, errors);
        if (kind is null)
        {
            return errors.Result();
        }

        WalkObject(top, kind.Value.Spec, root, errors);
        if (errors.Count == 0)
        {
            // The rules read fields by name: only meaningful once the walk has ruled out duplicates and wrong types.
            CheckRules(top, kind.Value.Kind, root, policy, errors);
        }

        return errors.Count > 0 ? errors.Result() : new NvidiaConfigDecodeResult(Build(top, kind.Value.Kind), []);
    }

    /// <summary>Finds the spec for <c>kind</c>; reports a missing, duplicated or unsupported kind and apiVersion, since nothing else can be checked without it.</summary>
    private static (NvidiaConfigKind Kind, NvidiaObjectSpec Spec)? ResolveKind(JsonElement top, string root, Errors errors)
    {
        JsonElement? kind = null;
        JsonElement? apiVersion = null;
        var kindCount = 0;
        var apiVersionCount = 0;
        foreach (var property in top.EnumerateObject())
        {
            if (property.NameEquals(Schema.KindField))
            {
                kind = property.Value;
                kindCount++;
            }
            else if (property.NameEquals(Schema.ApiVersionField))
            {
                apiVersion = property.Value;
                apiVersionCount++;
            }
        }

        var apiVersionPath = ErrorPath.Child(root, Schema.ApiVersionField);
        var kindPath = ErrorPath.Child(root, Schema.KindField);
        var apiVersionOk = apiVersionCount == 1 && apiVersion is { ValueKind: JsonValueKind.String } a && a.ValueEquals(Schema.ApiVersion);
        if (apiVersionCount == 0)
        {
            errors.Add(apiVersionPath, $"required; must be {Schema.ApiVersion}");
        }
        else if (apiVersionCount > 1)
        {
            errors.Add(apiVersionPath, "duplicate key; each key may appear at most once");
        }
        else if (!apiVersionOk)
        {
            errors.Add(apiVersionPath, $"{Display(apiVersion!.Value)} is not supported; must be {Schema.ApiVersion}");
        }

        if (kindCount == 0)
        {
            errors.Add(kindPath, $"required; must be one of {Schema.KindNames}");
            return null;
        }

        if (kindCount > 1)
        {
            errors.Add(kindPath, "duplicate key; each key may appear at most once");
            return null;
        }

        if (kind!.Value.ValueKind != JsonValueKind.String || !Schema.Kinds.TryGetValue(kind.Value.GetString()!, out var entry))
        {
            errors.Add(kindPath, $"{Display(kind.Value)} is not supported; must be one of {Schema.KindNames}");
            return null;
        }

        return apiVersionOk ? entry : null;
    }

    private void WalkObject(JsonElement value, NvidiaObjectSpec spec, string path, Errors errors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            var fieldPath = ErrorPath.Child(path, property.Name);
            var field = spec.Find(property.Name);
            if (field is null)
            {
                var note = spec.UnknownFieldNotes.GetValueOrDefault(property.Name) ?? CaseNote(spec, property.Name);
                errors.Add(fieldPath, note is null
                    ? $"unknown field; the allowed fields are {spec.AllowedFields}"
                    : $"unknown field ({note}); the allowed fields are {spec.AllowedFields}");
                continue;
            }

            if (!seen.Add(property.Name))
            {
                errors.Add(fieldPath, "duplicate key; each key may appear at most once");
                continue;
            }

            // apiVersion and kind were checked by ResolveKind.
            if (field.Name is Schema.ApiVersionField or Schema.KindField)
            {
                continue;
            }

            WalkValue(property.Value, field, fieldPath, errors);
        }

        foreach (var field in spec.Fields)
        {
            if (field.Required && !seen.Contains(field.Name))
            {
                errors.Add(ErrorPath.Child(path, field.Name), field.Type == NvidiaValueType.Enum
                    ? $"required; must be one of {string.Join(", ", field.Values)}"
                    : field.Pattern is { } shape ? $"required; must be {shape.Description}" : "required");
            }
        }
    }

    private void WalkValue(JsonElement value, NvidiaFieldSpec field, string path, Errors errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(path, "null is not allowed; omit the field instead");
            return;
        }

        switch (field.Type)
        {
            case NvidiaValueType.Object:
                if (Expect(value, JsonValueKind.Object, "an object", path, errors))
                {
                    WalkObject(value, field.Object!, path, errors);
                }

                break;
            case NvidiaValueType.Enum:
                if (Expect(value, JsonValueKind.String, "a string", path, errors) && !field.Values.Contains(value.GetString()!, StringComparer.Ordinal))
                {
                    errors.Add(path, $"{Display(value)} is not supported; must be one of {string.Join(", ", field.Values)} (case-sensitive)");
                }

                break;
            case NvidiaValueType.String:
                if (Expect(value, JsonValueKind.String, "a string", path, errors))
                {
                    var text = value.GetString()!;
                    var shape = field.Pattern!;
                    if (text.Length > shape.MaxLength)
                    {
                        errors.Add(path, $"a string of {text.Length} characters exceeds the maximum length {shape.MaxLength}");
                    }
                    else if (!shape.Accepts(text))
                    {
                        errors.Add(path, $"{Display(value)} is not valid; must be {shape.Description}");
                    }
                }

                break;
            case NvidiaValueType.Boolean:
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    errors.Add(path, $"must be a boolean, got {Describe(value.ValueKind)}");
                }

                break;
            case NvidiaValueType.Integer:
                CheckInteger(value, field, path, errors);
                break;
            case NvidiaValueType.Quantity:
                CheckQuantity(value, field, path, errors);
                break;
            case NvidiaValueType.QuantityMap:
                if (Expect(value, JsonValueKind.Object, "an object", path, errors))
                {
                    CheckQuantityMap(value, field, path, errors);
                }

                break;
        }
    }

    private static void CheckInteger(JsonElement value, NvidiaFieldSpec field, string path, Errors errors)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            errors.Add(path, $"must be an integer, got {Describe(value.ValueKind)}");
            return;
        }

        // Go decodes an int from the literal: a fraction or exponent is an error there, so it is one here.
        var raw = value.GetRawText();
        if (raw.AsSpan().ContainsAny(".eE") || !long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            errors.Add(path, $"{DisplayText.Quote(raw)} is not an integer; write a whole number from {field.Minimum} to {field.Maximum}");
            return;
        }

        if (number < field.Minimum)
        {
            errors.Add(path, $"{number} is below the minimum {field.Minimum}");
        }
        else if (number > field.Maximum)
        {
            errors.Add(path, $"{number} exceeds the maximum {field.Maximum}");
        }
    }

    private static long? CheckQuantity(JsonElement value, NvidiaFieldSpec field, string path, Errors errors)
    {
        string text;
        if (value.ValueKind == JsonValueKind.String)
        {
            text = value.GetString()!;
        }
        else if (value.ValueKind == JsonValueKind.Number)
        {
            text = value.GetRawText();
        }
        else
        {
            errors.Add(path, $"must be a quantity (a string such as \"1Gi\" or a number of bytes), got {Describe(value.ValueKind)}");
            return null;
        }

        if (!NvidiaQuantity.TryParseBytes(text, out var bytes, out var problem))
        {
            errors.Add(path, $"{DisplayText.Quote(text)} is {problem}");
            return null;
        }

        if (bytes < field.Minimum)
        {
            errors.Add(path, $"{DisplayText.Quote(text)} ({bytes} bytes) is below the minimum {field.Minimum} bytes (1Mi): the vendor rounds down to whole MiB and fails Prepare on 0");
            return null;
        }

        if (bytes > field.Maximum)
        {
            errors.Add(path, $"{DisplayText.Quote(text)} ({bytes} bytes) exceeds the maximum {field.Maximum} bytes (1Pi)");
            return null;
        }

        return bytes;
    }

    private static void CheckQuantityMap(JsonElement value, NvidiaFieldSpec field, string path, Errors errors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var count = 0;
        foreach (var property in value.EnumerateObject())
        {
            if (++count > Schema.MaxPerDeviceLimits)
            {
                errors.Add(path, $"more than {Schema.MaxPerDeviceLimits} devices exceeds the maximum {Schema.MaxPerDeviceLimits}");
                return;
            }

            var entryPath = ErrorPath.Child(path, property.Name);
            if (!NvidiaDeviceSelector.IsValid(property.Name))
            {
                errors.Add(entryPath, $"{DisplayText.Quote(property.Name)} is not a device selector; must be {NvidiaDeviceSelector.Description}");
            }
            else if (!seen.Add(property.Name.ToUpperInvariant()))
            {
                errors.Add(entryPath, "duplicate device; each device may appear at most once");
                continue;
            }

            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                errors.Add(entryPath, "null is not allowed; omit the device instead");
            }
            else
            {
                CheckQuantity(property.Value, field, entryPath, errors);
            }
        }
    }

    /// <summary>Rules across fields, and the proxy's policy, on a document that passed the schema walk.</summary>
    private static void CheckRules(JsonElement top, NvidiaConfigKind kind, string root, NvidiaConfigPolicy policy, Errors errors)
    {
        var kindPath = ErrorPath.Child(root, Schema.KindField);
        switch (kind)
        {
            case NvidiaConfigKind.VfioDeviceConfig when !policy.AllowVfio:
                errors.Add(kindPath, "VfioDeviceConfig is not allowed by the proxy's policy (--allow-vfio is off): a GPU passed through to a virtual machine is driven by the guest, outside NVML, so the proxy cannot scrub and verify its memory on release");
                return;
            case NvidiaConfigKind.ComputeDomainChannelConfig or NvidiaConfigKind.ComputeDomainDaemonConfig when !policy.AllowComputeDomain:
                errors.Add(kindPath, $"{kind} is not allowed by the proxy's policy (--allow-compute-domain is off): a compute domain's IMEX channels share memory across nodes, which no single node's scrub can prove clean");
                return;
            case NvidiaConfigKind.GpuConfig or NvidiaConfigKind.MigDeviceConfig:
                break;
            default:
                return;
        }

        if (!top.TryGetProperty(Schema.SharingField, out var sharing) || sharing.ValueKind != JsonValueKind.Object
            || !sharing.TryGetProperty(Schema.StrategyField, out var strategy) || strategy.ValueKind != JsonValueKind.String)
        {
            return;
        }

        var sharingPath = ErrorPath.Child(root, Schema.SharingField);
        var strategyPath = ErrorPath.Child(sharingPath, Schema.StrategyField);
        var hasTimeSlicing = sharing.TryGetProperty(Schema.TimeSlicingConfigField, out _);
        var hasMps = sharing.TryGetProperty(Schema.MpsConfigField, out _);
        if (strategy.ValueEquals(Schema.MpsStrategy))
        {
            if (!policy.AllowMps)
            {
                errors.Add(strategyPath, "MPS is not allowed by the proxy's policy (--allow-mps is off): the MPS control daemon holds the GPU open until the vendor tears it down, which blocks the VRAM scrub between tenants");
            }

            if (hasTimeSlicing && kind == NvidiaConfigKind.GpuConfig)
            {
                errors.Add(ErrorPath.Child(sharingPath, Schema.TimeSlicingConfigField), "not allowed with strategy MPS; the vendor would fail the claim at Prepare");
            }
        }
        else if (strategy.ValueEquals(Schema.TimeSlicingStrategy))
        {
            if (kind == NvidiaConfigKind.MigDeviceConfig)
            {
                errors.Add(strategyPath, "TimeSlicing has no effect on MIG devices (the vendor accepts and ignores it); remove sharing, or use a whole GPU with a GpuConfig");
                return;
            }

            if (hasMps)
            {
                errors.Add(ErrorPath.Child(sharingPath, Schema.MpsConfigField), "not allowed with strategy TimeSlicing; the vendor would fail the claim at Prepare");
            }

            if (!hasTimeSlicing)
            {
                errors.Add(ErrorPath.Child(sharingPath, Schema.TimeSlicingConfigField), "required with strategy TimeSlicing; set interval explicitly (Default, Short, Medium or Long) instead of relying on the vendor's silent default");
            }

            // An empty timeSlicingConfig is reported by the schema walk as a missing interval (the vendor's own
            // validation dereferences the nil interval and crashes).
        }
    }

    private static NvidiaConfig Build(JsonElement top, NvidiaConfigKind kind) => kind switch
    {
        NvidiaConfigKind.GpuConfig or NvidiaConfigKind.MigDeviceConfig => new NvidiaConfig(kind, Sharing: BuildSharing(top)),
        NvidiaConfigKind.VfioDeviceConfig => new NvidiaConfig(kind, Iommu: BuildIommu(top)),
        NvidiaConfigKind.ComputeDomainChannelConfig => new NvidiaConfig(
            kind,
            DomainId: top.GetProperty(Schema.DomainIdField).GetString(),
            AllocationMode: top.TryGetProperty(Schema.AllocationModeField, out var mode) ? mode.GetString() : null),
        _ => new NvidiaConfig(kind, DomainId: top.GetProperty(Schema.DomainIdField).GetString()),
    };

    private static NvidiaSharing? BuildSharing(JsonElement top)
    {
        if (!top.TryGetProperty(Schema.SharingField, out var sharing))
        {
            return null;
        }

        if (sharing.GetProperty(Schema.StrategyField).ValueEquals(Schema.TimeSlicingStrategy))
        {
            return new NvidiaSharing(NvidiaSharingStrategy.TimeSlicing, sharing.GetProperty(Schema.TimeSlicingConfigField).GetProperty(Schema.IntervalField).GetString());
        }

        NvidiaMpsConfig? mps = null;
        if (sharing.TryGetProperty(Schema.MpsConfigField, out var m))
        {
            var perDevice = new Dictionary<string, long>(StringComparer.Ordinal);
            if (m.TryGetProperty(Schema.DefaultPerDevicePinnedMemoryLimitField, out var map))
            {
                foreach (var entry in map.EnumerateObject())
                {
                    perDevice[entry.Name] = QuantityBytes(entry.Value);
                }
            }

            mps = new NvidiaMpsConfig(
                m.TryGetProperty(Schema.DefaultActiveThreadPercentageField, out var pct) ? pct.GetInt32() : null,
                m.TryGetProperty(Schema.DefaultPinnedDeviceMemoryLimitField, out var limit) ? QuantityBytes(limit) : null,
                perDevice,
                m.TryGetProperty(Schema.MultiUserField, out var multiUser) ? multiUser.GetBoolean() : null);
        }

        return new NvidiaSharing(NvidiaSharingStrategy.Mps, Mps: mps ?? new NvidiaMpsConfig(null, null, new Dictionary<string, long>(), null));
    }

    private static NvidiaIommuConfig BuildIommu(JsonElement top)
    {
        if (!top.TryGetProperty(Schema.IommuField, out var iommu))
        {
            return new NvidiaIommuConfig(Schema.LegacyOnlyPolicy, EnableApiDevice: false);
        }

        return new NvidiaIommuConfig(
            iommu.TryGetProperty(Schema.BackendPolicyField, out var policy) ? policy.GetString()! : Schema.LegacyOnlyPolicy,
            iommu.TryGetProperty(Schema.EnableApiDeviceField, out var api) && api.GetBoolean());
    }

    private static long QuantityBytes(JsonElement value)
    {
        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        NvidiaQuantity.TryParseBytes(text, out var bytes, out _);
        return bytes;
    }

    /// <summary>
    /// Every structural bound, on the raw bytes before any DOM exists: syntax, depth, string lengths and
    /// escapes, properties per object, items per array, one value only. The path names the deepest field reached.
    /// </summary>
    private bool ScanBounds(ReadOnlySpan<byte> json, string root, int maxDepth, Errors errors)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions
        {
            MaxDepth = maxDepth + 1,
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
        });
        var names = new string?[maxDepth + 2];
        Span<int> counts = stackalloc int[maxDepth + 2];
        Span<bool> isArray = stackalloc bool[maxDepth + 2];
        try
        {
            while (reader.Read())
            {
                var level = reader.CurrentDepth;
                if (level > 0 && isArray[level] && reader.TokenType is not (JsonTokenType.EndArray or JsonTokenType.EndObject))
                {
                    names[level] = null;
                    if (++counts[level] > Limits.MaxArrayLength)
                    {
                        errors.Add(PathAt(root, names, level), $"an array with more than {Limits.MaxArrayLength} items exceeds the maximum {Limits.MaxArrayLength}");
                        return false;
                    }
                }

                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        if (level + 1 > maxDepth)
                        {
                            errors.Add(PathAt(root, names, level), $"nesting depth {level + 1} exceeds the maximum {maxDepth}");
                            return false;
                        }

                        counts[level + 1] = 0;
                        isArray[level + 1] = reader.TokenType == JsonTokenType.StartArray;
                        names[level + 1] = null;
                        break;
                    case JsonTokenType.PropertyName:
                        if (!CheckString(ref reader, PathAt(root, names, level - 1), "property name", errors))
                        {
                            return false;
                        }

                        names[level] = reader.GetString();
                        if (++counts[level] > Limits.MaxProperties)
                        {
                            errors.Add(PathAt(root, names, level - 1), $"an object with more than {Limits.MaxProperties} properties exceeds the maximum {Limits.MaxProperties}");
                            return false;
                        }

                        break;
                    case JsonTokenType.String:
                        if (!CheckString(ref reader, PathAt(root, names, level), "string", errors))
                        {
                            return false;
                        }

                        break;
                }
            }
        }
        catch (JsonException ex)
        {
            errors.Add(root, $"malformed JSON at line {(ex.LineNumber ?? 0) + 1}, byte {ex.BytePositionInLine ?? 0}; the config must be one JSON object (no comments, NaN, Infinity or trailing commas)");
            return false;
        }

        return true;
    }

    private static string PathAt(string root, string?[] names, int level)
    {
        var path = root;
        for (var i = 1; i <= level && i < names.Length; i++)
        {
            if (names[i] is { } name)
            {
                path = ErrorPath.Child(path, name);
            }
        }

        return path;
    }

    private bool CheckString(ref Utf8JsonReader reader, string path, string what, Errors errors)
    {
        if (JsonStringChecks.StringProblem(ref reader, Limits.MaxStringLength, what) is { } problem)
        {
            errors.Add(path, problem);
            return false;
        }

        return true;
    }

    private static bool Expect(JsonElement value, JsonValueKind kind, string what, string path, Errors errors)
    {
        if (value.ValueKind == kind)
        {
            return true;
        }

        errors.Add(path, $"must be {what}, got {Describe(value.ValueKind)}");
        return false;
    }

    // Go's strict decoder matches field names case-sensitively; say so when only the case differs.
    private static string? CaseNote(NvidiaObjectSpec spec, string name)
    {
        foreach (var field in spec.Fields)
        {
            if (string.Equals(field.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return $"field names are case-sensitive; did you mean {field.Name}?";
            }
        }

        return null;
    }

    private static string Display(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? DisplayText.Quote(value.GetString()!) : Describe(value.ValueKind);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    private static NvidiaConfigDecodeResult Fail(string path, string message) => new(null, [new ValidationError(path, message)]);

    private sealed class Errors
    {
        private readonly List<ValidationError> _errors = [];

        public int Count => _errors.Count;

        public void Add(string path, string message)
        {
            if (_errors.Count < MaxErrors)
            {
                _errors.Add(new ValidationError(path, message));
            }
        }

        public NvidiaConfigDecodeResult Result() => new(null, _errors);
    }
}
