using SecureDra.Api.Validation;

namespace SecureDra.Api.Manifests;

/// <summary>
/// The documents that were read cleanly, and the errors of those that were not. A document with
/// any error (a duplicate key, say) is left out of <see cref="Documents"/>: acting on an
/// ambiguous object is worse than not acting. <see cref="DocumentCount"/> counts both.
/// </summary>
public sealed record ManifestReadResult(IReadOnlyList<ManifestDocument> Documents, IReadOnlyList<ValidationError> Errors, int DocumentCount)
{
    public bool IsValid => Errors.Count == 0;
}
