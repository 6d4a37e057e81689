namespace SecureDra.Api.Config;

/// <summary>
/// The opaque configuration of resource.securedra.io/v1alpha1, kind GpuConfig, after strict
/// decoding. Absent fields take the defaults below.
/// </summary>
public sealed record GpuConfig(
    string ResetPolicy = DriverConstants.ZeroVramOnRelease,
    SharingStrategy SharingStrategy = SharingStrategy.Exclusive,
    int? SharingTimeSliceMs = null);

public enum SharingStrategy
{
    Exclusive,
    TimeSlicing,
}
