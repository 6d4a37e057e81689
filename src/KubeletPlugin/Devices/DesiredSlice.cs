using SecureDra.Kube.Resources;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>What one published ResourceSlice carries: devices, counter sets (partitionable devices), or both where the version allows.</summary>
public sealed record DesiredSlice(IReadOnlyList<SliceDevice> Devices, IReadOnlyList<CounterSet> SharedCounters)
{
    public static DesiredSlice Of(IReadOnlyList<SliceDevice> devices) => new(devices, []);
}
