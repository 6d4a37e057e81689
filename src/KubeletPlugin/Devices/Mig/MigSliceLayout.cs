using SecureDra.Kube.Resources;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// Lays partitionable GPUs out in slices as the Kubernetes version requires (resource.k8s.io
/// validation; NVIDIA driver.go does the same split). 1.33–1.34: a device may only consume a
/// counter set of its own slice and a slice holds at most 32 counters summed over its sets, so
/// each GPU gets one combined slice (its counter set + its devices). 1.35+: a slice carries
/// devices or counters, not both, and at most 8 counter sets, so the counter sets go first, alone,
/// 8 to a slice, then each GPU's devices (at most 64 per slice, as they consume counters).
/// Other devices (GPUs not partitioned) follow in slices of their own limit.
/// </summary>
public static class MigSliceLayout
{
    public const int MaxCounterSetsPerSlice = 8;

    /// <summary>The first minor whose API servers keep counter sets at all (alpha gate DRAPartitionableDevices).</summary>
    public const int FirstPartitionableMinor = 33;

    public const int FirstSplitMinor = 35;

    public static IReadOnlyList<DesiredSlice> Layout(
        int kubernetesMinor,
        IReadOnlyList<MigPartitionedGpu> partitioned,
        IReadOnlyList<SliceDevice> others,
        int maxOtherDevicesPerSlice,
        int maxPartitionDevicesPerSlice)
    {
        ArgumentNullException.ThrowIfNull(partitioned);
        ArgumentNullException.ThrowIfNull(others);
        if (kubernetesMinor < FirstPartitionableMinor && partitioned.Count > 0)
        {
            throw new ArgumentException($"Kubernetes 1.{kubernetesMinor} has no partitionable devices", nameof(kubernetesMinor));
        }

        var slices = new List<DesiredSlice>();
        if (kubernetesMinor >= FirstSplitMinor)
        {
            slices.AddRange(partitioned.Select(p => p.CounterSet).Chunk(MaxCounterSetsPerSlice).Select(c => new DesiredSlice([], c)));
            foreach (var gpu in partitioned)
            {
                slices.AddRange(gpu.Devices.Chunk(maxPartitionDevicesPerSlice).Select(c => DesiredSlice.Of(c)));
            }
        }
        else
        {
            foreach (var gpu in partitioned)
            {
                if (gpu.Devices.Count > maxPartitionDevicesPerSlice)
                {
                    // Before 1.35 a device can only consume a counter set of its own slice: no way to split.
                    throw new ArgumentException($"counter set {gpu.CounterSet.Name} has {gpu.Devices.Count} devices; a 1.{kubernetesMinor} slice holds {maxPartitionDevicesPerSlice}", nameof(partitioned));
                }

                slices.Add(new DesiredSlice(gpu.Devices, [gpu.CounterSet]));
            }
        }

        slices.AddRange(others.Chunk(maxOtherDevicesPerSlice).Select(c => DesiredSlice.Of(c)));
        if (slices.Count == 0)
        {
            slices.Add(DesiredSlice.Of([])); // an empty pool is still a pool
        }

        return slices;
    }
}
