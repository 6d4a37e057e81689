using SecureDra.Nvml.Backends;

using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// One MIG placement (a partitionable device) at one instant. Offered only when its GPU has a
/// verified scrub and no withdrawal, and every memory slice it covers is Clean.
/// </summary>
public sealed record PlacementStateSnapshot(
    string Name,
    GpuDevice Parent,
    MigProfile Profile,
    MigPlacement Placement,
    DeviceState State,
    string? ClaimUid,
    IReadOnlyDictionary<WithdrawalReason, string> Withdrawals)
{
    public bool IsWithdrawn => Withdrawals.Count > 0;

    public bool IsOffered => State == DeviceState.Clean && !IsWithdrawn;
}

/// <summary>A partitioned GPU: its profiles, its memory slices and every placement.</summary>
public sealed record PartitionSnapshot(GpuDevice Gpu, IReadOnlyList<MigProfile> Profiles, IReadOnlyList<MemorySliceSnapshot> Slices, IReadOnlyList<PlacementStateSnapshot> Placements);
