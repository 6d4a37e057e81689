namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// ResourceSlice limits of one Kubernetes version (resource.k8s.io types.go / validation.go):
/// 128 devices per slice; from 1.35, 64 when any device carries taints; 4 taints per device in
/// 1.33–1.34, 16 from 1.35. Device taints exist in the API from 1.33 (alpha gate DRADeviceTaints).
/// </summary>
public sealed record SliceLimits(int MaxDevicesPerSlice, int MaxDevicesPerSliceWithTaints, int MaxTaintsPerDevice, bool TaintsInApi, int? KubernetesMinor = null)
{
    /// <summary>Unknown version: assume the strictest shape that any supported server accepts.</summary>
    public static SliceLimits Conservative { get; } = new(128, 64, 4, true);

    public static SliceLimits ForKubernetesMinor(int? minor) => minor switch
    {
        null => Conservative,
        < 33 => new(128, 128, 0, false, minor),
        < 35 => new(128, 128, 4, true, minor),
        _ => new(128, 64, 16, true, minor),
    };
}
