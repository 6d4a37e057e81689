using SecureDra.KubeletPlugin.Devices.Mig;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>All devices at one inventory version; the slice publisher renders exactly this. <see cref="Partitions"/>: GPUs published as MIG placements (dynamic mode).</summary>
public sealed record InventorySnapshot(long Version, IReadOnlyList<DeviceStateSnapshot> Devices)
{
    public IReadOnlyList<PartitionSnapshot> Partitions { get; init; } = [];
}
