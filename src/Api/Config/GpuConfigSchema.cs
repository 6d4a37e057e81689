namespace SecureDra.Api.Config;

/// <summary>
/// The field names, enum values and bounds of GpuConfig v1alpha1, in one place so the decoder,
/// its error messages and the documentation cannot drift apart.
/// </summary>
public static class GpuConfigSchema
{
    public const string ApiVersionField = "apiVersion";
    public const string KindField = "kind";
    public const string ResetPolicyField = "resetPolicy";

    /// <summary>The reset policy that would skip the VRAM scrub. Never accepted; named so the error can say why.</summary>
    public const string ResetPolicyNone = "None";

    /// <summary>
    /// The schema table: every field of GpuConfig, in the order the decoder reports missing ones. It drives decoding
    /// (which names are fields), validation (the one value each accepts, which are required, what the error says),
    /// the "allowed fields" message and the plugin's rejection metric labels.
    /// </summary>
    public static IReadOnlyList<GpuConfigField> Table { get; } =
    [
        new(ApiVersionField, DriverConstants.ConfigApiVersion, Required: true, $"must be {DriverConstants.ConfigApiVersion}"),
        new(KindField, DriverConstants.GpuConfigKind, Required: true, $"must be {DriverConstants.GpuConfigKind}"),
        new(ResetPolicyField, DriverConstants.ZeroVramOnRelease, Required: false, $"the only reset policy is {DriverConstants.ZeroVramOnRelease}"),
    ];

    public static IReadOnlyList<string> Fields { get; } = [.. Table.Select(f => f.Name)];

    public static string AllowedFields { get; } = string.Join(", ", Fields);

    public static bool IsField(string name) => Fields.Contains(name, StringComparer.Ordinal);

    /// <summary>
    /// Fields earlier versions accepted and nothing ever applied. They are unknown fields now; the error says why,
    /// so a platform team reading its DeviceClass learns it never had time-slicing.
    /// </summary>
    public static string? RemovedFieldReason(string name) => name switch
    {
        "sharingStrategy" or "sharingTimeSliceMs" =>
            "removed: GPU sharing was never applied, and time-slicing would put two tenants' contexts in one GPU's memory, which nothing on a node can isolate; every claim gets whole GPUs",
        _ => null,
    };
}
