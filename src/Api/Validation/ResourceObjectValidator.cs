using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SecureDra.Api.Validation;

/// <summary>
/// Validates every opaque config for <paramref name="driverName"/> inside a ResourceClaim,
/// ResourceClaimTemplate (at spec.spec) or DeviceClass, in resource.k8s.io v1, v1beta2 or v1beta1,
/// with paths such as <c>spec.devices.config[1].opaque.parameters.sharingTimeSliceMs</c>.
/// Configs for other drivers are skipped. Shared by the webhook and <c>securedra validate</c>.
/// </summary>
/// <remarks>
/// The object may come straight from an AdmissionReview, so every step checks the JSON type it
/// expects and reports a wrong one as an error; nothing here throws for bad input. The walk is
/// bounded: at most <see cref="MaxConfigs"/> entries (the API server's DeviceConfigMaxSize), and
/// each entry's parameters are serialized into a buffer capped at the decoder's byte limit + 1.
/// The config list has the same shape in all three served versions; only its location differs by kind.
/// </remarks>
public sealed class ResourceObjectValidator(IGpuConfigValidator configValidator, string driverName)
{
    /// <summary>resource.k8s.io DeviceConfigMaxSize: config entries in a claim spec or a DeviceClass.</summary>
    public const int MaxConfigs = 32;

    public const string ResourceClaimKind = "ResourceClaim";
    public const string ResourceClaimTemplateKind = "ResourceClaimTemplate";
    public const string DeviceClassKind = "DeviceClass";

    /// <summary>The resource.k8s.io versions whose config shape this validator knows, newest first.</summary>
    public static IReadOnlyList<string> SupportedApiVersions { get; } =
        ["resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1beta1"];

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Escaping only what JSON requires keeps the re-serialized size close to what the user wrote.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = 64,
        SkipValidation = false,
    };

    public IGpuConfigValidator ConfigValidator { get; } = configValidator ?? throw new ArgumentNullException(nameof(configValidator));
    public string DriverName { get; } = driverName ?? throw new ArgumentNullException(nameof(driverName));

    /// <summary>True when <paramref name="apiVersion"/> and <paramref name="kind"/> name an object this validator checks.</summary>
    public static bool Handles(string? apiVersion, string? kind) =>
        apiVersion is not null && SupportedApiVersions.Contains(apiVersion)
        && kind is ResourceClaimKind or ResourceClaimTemplateKind or DeviceClassKind;

    public IReadOnlyList<ValidationError> Validate(JsonObject resourceObject)
    {
        ArgumentNullException.ThrowIfNull(resourceObject);
        var errors = new List<ValidationError>();

        var apiVersion = ReadString(resourceObject, "apiVersion", "apiVersion", errors);
        var kind = ReadString(resourceObject, "kind", "kind", errors);
        if (apiVersion is null || kind is null)
        {
            return errors;
        }

        if (!SupportedApiVersions.Contains(apiVersion))
        {
            errors.Add(new ValidationError("apiVersion", $"{DisplayText.Quote(apiVersion)} is not one of {string.Join(", ", SupportedApiVersions)}"));
            return errors;
        }

        switch (kind)
        {
            case ResourceClaimKind:
                ValidateConfigList(resourceObject, ["spec", "devices", "config"], ConfigOrigin.Claim, errors);
                break;
            case ResourceClaimTemplateKind:
                ValidateConfigList(resourceObject, ["spec", "spec", "devices", "config"], ConfigOrigin.Claim, errors);
                break;
            case DeviceClassKind:
                ValidateConfigList(resourceObject, ["spec", "config"], ConfigOrigin.DeviceClass, errors);
                break;
            default:
                errors.Add(new ValidationError("kind", $"{DisplayText.Quote(kind)} is not one of {ResourceClaimKind}, {ResourceClaimTemplateKind}, {DeviceClassKind}"));
                break;
        }

        return errors;
    }

    private void ValidateConfigList(JsonObject root, string[] segments, ConfigOrigin origin, List<ValidationError> errors)
    {
        JsonNode? node = root;
        var path = string.Empty;
        for (var i = 0; i < segments.Length; i++)
        {
            var parent = (JsonObject)node!;
            path = ErrorPath.Child(path, segments[i]);
            node = parent[segments[i]];
            if (node is null)
            {
                // An absent (or null) spec, devices or config has no configs to check.
                return;
            }

            var isLast = i == segments.Length - 1;
            if (isLast ? node is not JsonArray : node is not JsonObject)
            {
                errors.Add(new ValidationError(path, $"must be {(isLast ? "an array" : "an object")}, got {Describe(node)}"));
                return;
            }
        }

        var configs = (JsonArray)node!;
        if (configs.Count > MaxConfigs)
        {
            errors.Add(new ValidationError(path, $"{configs.Count} entries exceed the maximum {MaxConfigs}"));
            return;
        }

        for (var i = 0; i < configs.Count; i++)
        {
            ValidateConfigEntry(configs[i], ErrorPath.Index(path, i), origin, errors);
        }
    }

    private void ValidateConfigEntry(JsonNode? entry, string path, ConfigOrigin origin, List<ValidationError> errors)
    {
        if (entry is not JsonObject entryObject)
        {
            errors.Add(new ValidationError(path, $"must be an object, got {Describe(entry)}"));
            return;
        }

        var opaquePath = ErrorPath.Child(path, "opaque");
        var opaqueNode = entryObject["opaque"];
        if (opaqueNode is null)
        {
            return;
        }

        if (opaqueNode is not JsonObject opaque)
        {
            errors.Add(new ValidationError(opaquePath, $"must be an object, got {Describe(opaqueNode)}"));
            return;
        }

        var driver = ReadString(opaque, "driver", ErrorPath.Child(opaquePath, "driver"), errors);
        if (driver is null || !string.Equals(driver, DriverName, StringComparison.Ordinal))
        {
            // Another driver's config is that driver's business.
            return;
        }

        var parametersPath = ErrorPath.Child(opaquePath, "parameters");
        var parameters = opaque["parameters"];
        if (parameters is null)
        {
            errors.Add(new ValidationError(parametersPath, $"required for driver {DriverName}; must be a {DriverConstants.GpuConfigKind} object"));
            return;
        }

        var maxBytes = ConfigValidator is GpuConfigValidator strict ? strict.Limits.MaxBytes : DriverConstants.OpaqueParametersMaxBytes;
        using var buffer = new CappedBufferWriter(maxBytes + 1);
        try
        {
            using var writer = new Utf8JsonWriter(buffer, WriterOptions);
            parameters.WriteTo(writer);
            writer.Flush();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or JsonException)
        {
            errors.Add(new ValidationError(parametersPath, $"cannot be encoded as JSON within a nesting depth of {WriterOptions.MaxDepth}"));
            return;
        }

        if (buffer.Overflowed)
        {
            errors.Add(new ValidationError(parametersPath, $"more than {maxBytes} bytes exceeds the maximum {maxBytes} bytes"));
            return;
        }

        errors.AddRange(ConfigValidator.Decode(buffer.WrittenSpan, parametersPath, origin).Errors);
    }

    private static string? ReadString(JsonObject parent, string name, string path, List<ValidationError> errors)
    {
        var node = parent[name];
        if (node is null)
        {
            errors.Add(new ValidationError(path, "required; must be a string"));
            return null;
        }

        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.TryGetValue<string>(out var text))
        {
            return text;
        }

        errors.Add(new ValidationError(path, $"must be a string, got {Describe(node)}"));
        return null;
    }

    private static string Describe(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        var other => other.ToString()!,
    };
}
