namespace SecureDra.Api.Manifests;

/// <summary>Bounds on a manifest file, checked while it is read so a hostile file costs little.</summary>
public sealed record ManifestLimits
{
    /// <summary>The API server's own cap on a request body (3 MiB): no real object is bigger.</summary>
    public int MaxBytes { get; init; } = 3 * 1024 * 1024;

    public int MaxDepth { get; init; } = 64;

    /// <summary>Scalars, mappings and sequences in the whole file.</summary>
    public int MaxNodes { get; init; } = 250_000;

    public int MaxDocuments { get; init; } = 1_000;
}
