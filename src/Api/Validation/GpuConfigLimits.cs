namespace SecureDra.Api.Validation;

/// <summary>Bounds applied before anything is allocated for an opaque config.</summary>
public sealed record GpuConfigLimits
{
    /// <summary>Total bytes; the API server's own limit. A flag may lower it, never raise it.</summary>
    public int MaxBytes { get; init; } = DriverConstants.OpaqueParametersMaxBytes;

    public int MaxDepth { get; init; } = 8;

    public int MaxStringLength { get; init; } = 256;

    public int MaxArrayLength { get; init; } = 64;

    public int MaxProperties { get; init; } = 32;
}
