namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// One memory slice of a partitioned GPU, in the same state machine as a whole device
/// (docs/isolation.md): Clean (verified since its last use), held by one claim (Reserved,
/// Prepared, Releasing, Scrubbing) or Dirty.
/// </summary>
public enum MemorySliceState
{
    Clean,
    Reserved,
    Prepared,
    Releasing,
    Scrubbing,
    Dirty,
}

/// <summary>One memory slice at one instant.</summary>
public sealed record MemorySliceSnapshot(int Index, MemorySliceState State, string? ClaimUid, WithdrawalReason? DirtyReason, string? DirtyDetail);
