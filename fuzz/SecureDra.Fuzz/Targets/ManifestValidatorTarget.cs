using System.Text;
using System.Text.Json.Nodes;
using SecureDra.Api.Manifests;
using SecureDra.Api.Validation;
using SecureDra.Fuzz.Oracles;

namespace SecureDra.Fuzz.Targets;

/// <summary>
/// <see cref="ManifestValidator.Validate"/>, as <c>securedra validate</c> runs it. Documented: never throws
/// for bad content. Oracles: a file with no violation has every document checked or skipped, and every
/// opaque config for the driver in it (raw GpuConfig documents and configs inside claims, templates and
/// classes) is valid to <see cref="GpuConfigReference"/>. With <see cref="CompareFilePath"/> the file path
/// (<see cref="ManifestValidator.ValidateFileAsync"/>) must agree with the span path.
/// </summary>
public sealed class ManifestValidatorTarget(bool compareFilePath = false) : IFuzzTarget
{
    private static readonly GpuConfigLimits Limits = new();
    private static readonly ManifestReader Reader = new();
    private static readonly ManifestValidator Validator = new(Reader, new ResourceObjectValidator(new GpuConfigValidator(Limits), OpaqueConfigs.Driver), ConfigOrigin.Claim);

    public string Name => "manifest-validator";

    public int MaxInputBytes => 16 * 1024;

    public bool CompareFilePath { get; } = compareFilePath;

    public FuzzVerdict Run(ReadOnlySpan<byte> input)
    {
        ManifestValidationResult result;
        try
        {
            result = Validator.Validate(input);
        }
        catch (Exception ex)
        {
            throw FuzzFindingException.Escaped(Name, ex);
        }

        if (CompareFilePath)
        {
            CompareWithFile(input, result);
        }

        if (result.Errors.Count > 0)
        {
            return FuzzVerdict.Rejected;
        }

        var read = Reader.Read(input);
        if (result.Checked + result.Skipped != read.Documents.Count)
        {
            throw FuzzFindingException.WrongAccept(Name, $"{read.Documents.Count} document(s) but {result.Checked} checked and {result.Skipped} skipped");
        }

        var singleJson = read.DocumentCount == 1 && input.TrimStart(" \t\r\n"u8).StartsWith("{"u8);
        foreach (var document in read.Documents)
        {
            var obj = document.Object;
            var kind = document.Kind;
            var apiVersion = document.ApiVersion;
            string? why;
            if (apiVersion is not null && apiVersion.StartsWith("resource.k8s.io/", StringComparison.Ordinal))
            {
                why = OpaqueConfigs.FirstInvalid(obj, Limits);
            }
            else if (kind == "GpuConfig" || (apiVersion?.StartsWith("resource.securedra.io/", StringComparison.Ordinal) ?? false)
                || (!obj.ContainsKey("apiVersion") && !obj.ContainsKey("kind")))
            {
                var bytes = singleJson ? input.ToArray() : Encoding.UTF8.GetBytes(obj.ToJsonString());
                why = GpuConfigReference.WhyInvalid(bytes, ConfigOrigin.Claim, Limits, out _);
            }
            else
            {
                continue;
            }

            if (why is not null)
            {
                throw FuzzFindingException.WrongAccept(Name, $"document {document.Index} ({kind}): {why}");
            }
        }

        return FuzzVerdict.Accepted;
    }

    private void CompareWithFile(ReadOnlySpan<byte> input, ManifestValidationResult span)
    {
        var path = Path.Combine(Path.GetTempPath(), $"securedra-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}.yaml");
        File.WriteAllBytes(path, input.ToArray());
        try
        {
            var file = Validator.ValidateFileAsync(path, CancellationToken.None).GetAwaiter().GetResult();
            if (!file.Errors.SequenceEqual(span.Errors) || file.Checked != span.Checked || file.Skipped != span.Skipped)
            {
                throw FuzzFindingException.Disagree(Name, $"span: {span.Checked} checked, {span.Errors.Count} errors; file: {file.Checked} checked, {file.Errors.Count} errors");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
