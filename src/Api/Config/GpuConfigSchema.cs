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
    public const string SharingStrategyField = "sharingStrategy";
    public const string SharingTimeSliceMsField = "sharingTimeSliceMs";

    /// <summary>The reset policy that skips the VRAM scrub; only a DeviceClass may set it, and only behind an explicit driver flag.</summary>
    public const string ResetPolicyNone = "None";

    public const string Exclusive = "Exclusive";
    public const string TimeSlicing = "TimeSlicing";

    /// <summary>Lower bound of a time slice; 0 would mean "never switch", which is not time slicing.</summary>
    public const int MinTimeSliceMs = 1;

    /// <summary>Upper bound of a time slice: ten seconds is already longer than any sensible scheduling quantum.</summary>
    public const int MaxTimeSliceMs = 10_000;

    public const string AllowedFields = "apiVersion, kind, resetPolicy, sharingStrategy, sharingTimeSliceMs";
}
