using System.Text.Encodings.Web;
using System.Text.Json;
using SecureDra.Api.Validation;

namespace SecureDra.Api.Manifests;

/// <summary>
/// Offline validation of a manifest file with the same code the webhook and the kubelet plugin
/// run: ResourceClaims, ResourceClaimTemplates and DeviceClasses (resource.k8s.io v1, v1beta2,
/// v1beta1) through <see cref="ResourceObjectValidator"/>, and raw GpuConfig documents through
/// the <see cref="IGpuConfigValidator"/>. A raw config is a document whose apiVersion is in
/// resource.securedra.io, whose kind is GpuConfig, or that has neither (a bare parameters object);
/// it is judged as coming from <c>rawConfigOrigin</c>. Other kinds are counted as skipped.
/// </summary>
/// <remarks>
/// A file that is one JSON object is decoded from its original bytes, so what the strict decoder
/// sees is exactly what was written (a YAML round trip could hide, say, an escaped duplicate key).
/// Paths carry a <c>document[N].</c> prefix only when the file has more than one document.
/// </remarks>
public sealed class ManifestValidator(ManifestReader reader, ResourceObjectValidator objectValidator, ConfigOrigin rawConfigOrigin)
{
    public const string ConfigApiGroupPrefix = "resource.securedra.io/";

    public ManifestReader Reader { get; } = reader ?? throw new ArgumentNullException(nameof(reader));
    public ResourceObjectValidator ObjectValidator { get; } = objectValidator ?? throw new ArgumentNullException(nameof(objectValidator));
    public ConfigOrigin RawConfigOrigin { get; } = rawConfigOrigin;

    /// <summary>Validates a file. I/O failures (a missing file) throw; bad content is reported.</summary>
    public async Task<ManifestValidationResult> ValidateFileAsync(string path, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            var input = await BoundedInput.ReadAtMostAsync(stream, Reader.Limits.MaxBytes, cancellationToken).ConfigureAwait(false);
            return Validate(input.Span);
        }
    }

    public ManifestValidationResult Validate(ReadOnlySpan<byte> content)
    {
        var read = Reader.Read(content);
        var errors = new List<ValidationError>(read.Errors);
        var multi = read.DocumentCount > 1;
        var isSingleJsonObject = !multi && content.TrimStart(" \t\r\n"u8).StartsWith("{"u8);
        int checkedCount = 0, skipped = 0;

        foreach (var document in read.Documents)
        {
            var prefix = multi ? ErrorPath.Index("document", document.Index) : string.Empty;
            var apiVersion = document.ApiVersion;
            var kind = document.Kind;
            if (IsResourceObject(apiVersion, kind))
            {
                checkedCount++;
                errors.AddRange(ObjectValidator.Validate(document.Object).Select(e => Prefixed(prefix, e)));
            }
            else if (IsRawConfig(document, apiVersion, kind))
            {
                checkedCount++;
                var decoded = isSingleJsonObject
                    ? ObjectValidator.ConfigValidator.Decode(content, prefix, RawConfigOrigin)
                    : ObjectValidator.ConfigValidator.Decode(Serialize(document), prefix, RawConfigOrigin);
                errors.AddRange(decoded.Errors);
            }
            else
            {
                skipped++;
            }
        }

        return new ManifestValidationResult(errors, checkedCount, skipped);
    }

    private static bool IsResourceObject(string? apiVersion, string? kind) =>
        apiVersion is not null && apiVersion.StartsWith("resource.k8s.io/", StringComparison.Ordinal)
        && kind is ResourceObjectValidator.ResourceClaimKind or ResourceObjectValidator.ResourceClaimTemplateKind or ResourceObjectValidator.DeviceClassKind;

    private static bool IsRawConfig(ManifestDocument document, string? apiVersion, string? kind) =>
        kind == DriverConstants.GpuConfigKind
        || (apiVersion is not null && apiVersion.StartsWith(ConfigApiGroupPrefix, StringComparison.Ordinal))
        || (!document.Object.ContainsKey("apiVersion") && !document.Object.ContainsKey("kind"));

    private static byte[] Serialize(ManifestDocument document)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            document.Object.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static ValidationError Prefixed(string prefix, ValidationError error) =>
        prefix.Length == 0 ? error : error with { Path = prefix + "." + error.Path };
}
