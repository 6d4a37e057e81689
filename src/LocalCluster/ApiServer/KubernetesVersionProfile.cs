namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// What one Kubernetes minor release serves: resource.k8s.io versions, field availability and the
/// ResourceSlice limits its validation enforces. Facts from /work/shared/reference/kubelet-dra-protocol.md §5
/// and upstream release branches.
/// </summary>
public sealed record KubernetesVersionProfile(int Minor)
{
    public static readonly IReadOnlyList<string> SupportedVersions = ["1.32", "1.33", "1.34", "1.35", "1.36"];

    public string GitVersion => $"v1.{Minor}.0";

    /// <summary>resource.k8s.io versions served, newest first (discovery order, preferred first).</summary>
    public IReadOnlyList<string> ResourceApiVersions => Minor switch
    {
        32 => ["v1beta1"],
        33 => ["v1beta2", "v1beta1"],
        _ => ["v1", "v1beta2", "v1beta1"],
    };

    /// <summary>Device taints exist in the API schema from 1.33 (DRADeviceTaints alpha).</summary>
    public bool HasDeviceTaintsField => Minor >= 33;

    /// <summary>DRADeviceTaints is on by default from 1.36 (beta); before that the server drops the field.</summary>
    public bool DeviceTaintsEnabledByDefault => Minor >= 36;

    /// <summary>
    /// The resource.k8s.io version that carries DeviceTaintRule when it is served: v1alpha3 in 1.33-1.35 (behind
    /// DRADeviceTaints in 1.33-1.34, DRADeviceTaintRules in 1.35, plus runtime-config for the alpha version),
    /// v1beta2 in 1.36 (DRADeviceTaintRules beta, off by default); none in 1.32.
    /// </summary>
    public string? DeviceTaintRuleVersion => Minor switch
    {
        >= 33 and <= 35 => "v1alpha3",
        >= 36 => "v1beta2",
        _ => null,
    };

    /// <summary>No release up to 1.36 serves DeviceTaintRule by default (GA, on by default, is planned for 1.37).</summary>
    public bool DeviceTaintRulesEnabledByDefault => false;

    /// <summary>deviceSelector.deviceClassName and deviceSelector.selectors were tombstoned in 1.35; the selector is {driver, pool, device} since.</summary>
    public bool DeviceTaintRuleHasClassAndSelectors => Minor <= 34;

    /// <summary>DeviceTaintRule gained status (conditions) and the taint effect None in 1.35.</summary>
    public bool DeviceTaintRuleHasStatus => Minor >= 35;

    /// <summary>Partitionable devices (sharedCounters, consumesCounters, perDeviceNodeSelection) from 1.33.</summary>
    public bool HasPartitionableDevices => Minor >= 33;

    /// <summary>DRAPartitionableDevices is on by default from 1.36 (beta); before that (alpha) the server drops sharedCounters and consumesCounters.</summary>
    public bool PartitionableDevicesEnabledByDefault => Minor >= 36;

    /// <summary>
    /// From 1.35 a slice carries devices or sharedCounters, not both; at most 8 counter sets of 32
    /// counters and 2 consumption entries per device, and a device may consume a counter set of
    /// another slice of its pool. Before (1.33–1.34): at most 32 counters summed over the slice's
    /// sets, 32 counters consumed per device, 1024 per slice, and only counter sets of the same slice.
    /// </summary>
    public bool SplitCounterSlices => Minor >= 35;

    /// <summary>firstAvailable and tolerations on requests from 1.33.</summary>
    public bool HasPrioritizedList => Minor >= 33;

    /// <summary>1.34 additions: binding conditions, consumable capacity, distinctAttribute, extendedResourceName, shareID.</summary>
    public bool Has134Fields => Minor >= 34;

    /// <summary>1.36 additions: list-typed attributes, nodeAllocatableResourceMappings.</summary>
    public bool Has136Fields => Minor >= 36;

    public int MaxTaintsPerDevice => Minor >= 35 ? 16 : 4;

    public const int MaxDevicesPerSlice = 128;

    /// <summary>From 1.35 a slice whose devices use taints or counters holds at most 64 devices.</summary>
    public int? MaxDevicesPerSliceWithAdvancedFeatures => Minor >= 35 ? 64 : null;

    public static KubernetesVersionProfile Parse(string version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var trimmed = version.Trim().TrimStart('v');
        var parts = trimmed.Split('.');
        if (parts.Length >= 2 && parts[0] == "1" && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var minor)
            && minor is >= 32 and <= 36)
        {
            return new KubernetesVersionProfile(minor);
        }

        throw new ArgumentException($"kubernetes version '{version}' is not supported; use one of {string.Join(", ", SupportedVersions)}", nameof(version));
    }
}
