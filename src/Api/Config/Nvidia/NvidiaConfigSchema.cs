namespace SecureDra.Api.Config.Nvidia;

/// <summary>
/// The one table of NVIDIA's opaque config kinds (<c>resource.nvidia.com/v1beta1</c>, upstream
/// api/nvidia.com/resource/v1beta1): field names, types, enum values and bounds. The decoder walks it,
/// its errors quote it, and docs/proxy.md lists it, so they cannot drift apart.
/// </summary>
public static class NvidiaConfigSchema
{
    public const string ApiVersion = "resource.nvidia.com/v1beta1";

    public const string ApiVersionField = "apiVersion";
    public const string KindField = "kind";
    public const string SharingField = "sharing";
    public const string StrategyField = "strategy";
    public const string TimeSlicingConfigField = "timeSlicingConfig";
    public const string IntervalField = "interval";
    public const string MpsConfigField = "mpsConfig";
    public const string DefaultActiveThreadPercentageField = "defaultActiveThreadPercentage";
    public const string DefaultPinnedDeviceMemoryLimitField = "defaultPinnedDeviceMemoryLimit";
    public const string DefaultPerDevicePinnedMemoryLimitField = "defaultPerDevicePinnedMemoryLimit";
    public const string MultiUserField = "multiUser";
    public const string IommuField = "iommu";
    public const string BackendPolicyField = "backendPolicy";
    public const string EnableApiDeviceField = "enableAPIDevice";
    public const string DomainIdField = "domainID";
    public const string AllocationModeField = "allocationMode";

    public const string TimeSlicingStrategy = "TimeSlicing";
    public const string MpsStrategy = "MPS";
    public const string LegacyOnlyPolicy = "LegacyOnly";

    /// <summary>The vendor rounds pinned-memory limits down to whole MiB and fails Prepare on 0.</summary>
    public const long MinPinnedMemoryBytes = 1L << 20;

    /// <summary>1 PiB: far above any GPU's memory; larger values can only be mistakes or overflow probes.</summary>
    public const long MaxPinnedMemoryBytes = 1L << 50;

    /// <summary>Per-device limits name at most this many devices (a node has at most a few dozen GPUs).</summary>
    public const int MaxPerDeviceLimits = 64;

    public static IReadOnlyList<string> StrategyValues { get; } = [TimeSlicingStrategy, MpsStrategy];

    public static IReadOnlyList<string> IntervalValues { get; } = ["Default", "Short", "Medium", "Long"];

    public static IReadOnlyList<string> BackendPolicyValues { get; } = [LegacyOnlyPolicy, "PreferIommuFD"];

    public static IReadOnlyList<string> AllocationModeValues { get; } = ["Single", "All"];

    public static NvidiaStringShape DomainIdShape { get; } = new(IsUuid, "a UUID (the ComputeDomain's uid)", 36);

    public static NvidiaObjectSpec MpsConfig { get; } = new(
    [
        new(DefaultActiveThreadPercentageField, NvidiaValueType.Integer) { Minimum = 0, Maximum = 100 },
        new(DefaultPinnedDeviceMemoryLimitField, NvidiaValueType.Quantity) { Minimum = MinPinnedMemoryBytes, Maximum = MaxPinnedMemoryBytes },
        new(DefaultPerDevicePinnedMemoryLimitField, NvidiaValueType.QuantityMap) { Minimum = MinPinnedMemoryBytes, Maximum = MaxPinnedMemoryBytes },
        new(MultiUserField, NvidiaValueType.Boolean),
    ]);

    public static NvidiaObjectSpec TimeSlicingConfig { get; } = new(
    [
        new(IntervalField, NvidiaValueType.Enum) { Required = true, Values = IntervalValues },
    ]);

    public static NvidiaObjectSpec GpuSharing { get; } = new(
    [
        new(StrategyField, NvidiaValueType.Enum) { Required = true, Values = StrategyValues },
        new(TimeSlicingConfigField, NvidiaValueType.Object) { Object = TimeSlicingConfig },
        new(MpsConfigField, NvidiaValueType.Object) { Object = MpsConfig },
    ]);

    public static NvidiaObjectSpec MigDeviceSharing { get; } = new(
    [
        new(StrategyField, NvidiaValueType.Enum) { Required = true, Values = StrategyValues },
        new(MpsConfigField, NvidiaValueType.Object) { Object = MpsConfig },
    ])
    {
        UnknownFieldNotes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [TimeSlicingConfigField] = "MIG devices have no time-slice settings; the vendor's strict decoder rejects this field too",
        },
    };

    public static NvidiaObjectSpec Iommu { get; } = new(
    [
        new(BackendPolicyField, NvidiaValueType.Enum) { Values = BackendPolicyValues },
        new(EnableApiDeviceField, NvidiaValueType.Boolean),
    ]);

    private static readonly NvidiaFieldSpec ApiVersionSpec = new(ApiVersionField, NvidiaValueType.Enum) { Required = true, Values = [ApiVersion] };

    private static NvidiaFieldSpec KindSpec(NvidiaConfigKind kind) => new(KindField, NvidiaValueType.Enum) { Required = true, Values = [kind.ToString()] };

    /// <summary>Every kind, keyed by its <c>kind</c> value; each object lists <c>apiVersion</c> and <c>kind</c> first (metav1.TypeMeta inline).</summary>
    public static IReadOnlyDictionary<string, (NvidiaConfigKind Kind, NvidiaObjectSpec Spec)> Kinds { get; } =
        new Dictionary<string, (NvidiaConfigKind, NvidiaObjectSpec)>(StringComparer.Ordinal)
        {
            [nameof(NvidiaConfigKind.GpuConfig)] = (NvidiaConfigKind.GpuConfig, new NvidiaObjectSpec(
            [
                ApiVersionSpec,
                KindSpec(NvidiaConfigKind.GpuConfig),
                new(SharingField, NvidiaValueType.Object) { Object = GpuSharing },
            ])),
            [nameof(NvidiaConfigKind.MigDeviceConfig)] = (NvidiaConfigKind.MigDeviceConfig, new NvidiaObjectSpec(
            [
                ApiVersionSpec,
                KindSpec(NvidiaConfigKind.MigDeviceConfig),
                new(SharingField, NvidiaValueType.Object) { Object = MigDeviceSharing },
            ])),
            [nameof(NvidiaConfigKind.VfioDeviceConfig)] = (NvidiaConfigKind.VfioDeviceConfig, new NvidiaObjectSpec(
            [
                ApiVersionSpec,
                KindSpec(NvidiaConfigKind.VfioDeviceConfig),
                new(IommuField, NvidiaValueType.Object) { Object = Iommu },
            ])),
            [nameof(NvidiaConfigKind.ComputeDomainChannelConfig)] = (NvidiaConfigKind.ComputeDomainChannelConfig, new NvidiaObjectSpec(
            [
                ApiVersionSpec,
                KindSpec(NvidiaConfigKind.ComputeDomainChannelConfig),
                new(DomainIdField, NvidiaValueType.String) { Required = true, Pattern = DomainIdShape },
                new(AllocationModeField, NvidiaValueType.Enum) { Values = AllocationModeValues },
            ])),
            [nameof(NvidiaConfigKind.ComputeDomainDaemonConfig)] = (NvidiaConfigKind.ComputeDomainDaemonConfig, new NvidiaObjectSpec(
            [
                ApiVersionSpec,
                KindSpec(NvidiaConfigKind.ComputeDomainDaemonConfig),
                new(DomainIdField, NvidiaValueType.String) { Required = true, Pattern = DomainIdShape },
            ])),
        };

    public static string KindNames => string.Join(", ", Kinds.Keys);

    private static bool IsUuid(string value)
    {
        if (value.Length != 36)
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var dash = i is 8 or 13 or 18 or 23;
            if (dash ? value[i] != '-' : !char.IsAsciiHexDigit(value[i]))
            {
                return false;
            }
        }

        return true;
    }
}
