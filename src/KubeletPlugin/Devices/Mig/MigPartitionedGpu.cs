using SecureDra.Kube.Resources;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>One GPU rendered as partitionable devices: its counter set, the whole-GPU device and every placement.</summary>
public sealed record MigPartitionedGpu(CounterSet CounterSet, IReadOnlyList<SliceDevice> Devices);
