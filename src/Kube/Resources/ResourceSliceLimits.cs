using SecureDra.Kube.Client;

namespace SecureDra.Kube.Resources;

/// <summary>
/// ResourceSlice limits that depend on the Kubernetes version (reference sheet §5.1:
/// <c>ResourceSliceMaxDevices</c>, <c>ResourceSliceMaxDevicesWithTaintsOrConsumesCounters</c>,
/// <c>DeviceTaintsMaxLength</c>). Unknown version: the strictest value, so a slice never fails validation.
/// </summary>
public static class ResourceSliceLimits
{
    public const int MaxDevicesPerSlice = 128;

    /// <summary>From 1.35, a slice whose devices carry taints or consume counters holds at most 64.</summary>
    public const int MaxDevicesPerSliceWithTaints = 64;

    public static int MaxDevices(KubernetesVersion? server, bool anyDeviceHasTaints) =>
        !anyDeviceHasTaints ? MaxDevicesPerSlice
        : server is not null && !server.IsAtLeast(1, 35) ? MaxDevicesPerSlice
        : MaxDevicesPerSliceWithTaints;

    /// <summary>4 up to 1.34, 16 from 1.35.</summary>
    public static int MaxTaintsPerDevice(KubernetesVersion? server) =>
        server is not null && server.IsAtLeast(1, 35) ? 16 : 4;

    /// <summary>Device taints in slices exist from resource.k8s.io v1beta1 in 1.33 (feature gate DRADeviceTaints; alpha until 1.36).</summary>
    public static bool SliceCanCarryTaints(KubernetesVersion? server) => server is not null && server.IsAtLeast(1, 33);
}
