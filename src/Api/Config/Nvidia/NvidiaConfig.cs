namespace SecureDra.Api.Config.Nvidia;

/// <summary>
/// An NVIDIA opaque config after strict decoding and the proxy's policy. Only the fields of
/// <see cref="Kind"/> are set; the vendor still receives the original bytes, this record tells the
/// proxy what the vendor will do with them (for example, that an MPS daemon will hold the GPU).
/// </summary>
public sealed record NvidiaConfig(
    NvidiaConfigKind Kind,
    NvidiaSharing? Sharing = null,
    NvidiaIommuConfig? Iommu = null,
    string? DomainId = null,
    string? AllocationMode = null);

public enum NvidiaSharingStrategy
{
    TimeSlicing,
    Mps,
}

/// <summary><c>sharing</c> of GpuConfig or MigDeviceConfig. <see cref="TimeSliceInterval"/> is set exactly when the strategy is TimeSlicing.</summary>
public sealed record NvidiaSharing(NvidiaSharingStrategy Strategy, string? TimeSliceInterval = null, NvidiaMpsConfig? Mps = null);

/// <summary><c>mpsConfig</c>; memory limits in bytes, per-device keys as written (a GPU index or UUID).</summary>
public sealed record NvidiaMpsConfig(
    int? DefaultActiveThreadPercentage,
    long? DefaultPinnedDeviceMemoryLimitBytes,
    IReadOnlyDictionary<string, long> DefaultPerDevicePinnedMemoryLimitBytes,
    bool? MultiUser);

/// <summary><c>iommu</c> of VfioDeviceConfig, with the vendor's defaults applied (LegacyOnly, no API device).</summary>
public sealed record NvidiaIommuConfig(string BackendPolicy, bool EnableApiDevice);
