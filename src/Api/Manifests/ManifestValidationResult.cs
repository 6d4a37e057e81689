using SecureDra.Api.Validation;

namespace SecureDra.Api.Manifests;

/// <summary>
/// The violations found in one manifest file, and how many documents were checked or skipped
/// (documents of kinds this driver has no opinion about, such as a Deployment).
/// </summary>
public sealed record ManifestValidationResult(IReadOnlyList<ValidationError> Errors, int Checked, int Skipped)
{
    public bool IsValid => Errors.Count == 0;
}
