using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// One device as the inventory sees it at one instant. <see cref="Withdrawals"/> maps each
/// reason to its operator-facing detail (cleanliness: VramDirty / ScrubFailed; others: Unhealthy,
/// MigModeEnabled); the device is schedulable only when it is empty and <see cref="State"/> is not
/// Unknown or Dirty.
/// </summary>
public sealed record DeviceStateSnapshot(
    GpuDevice Device,
    DeviceState State,
    string? ClaimUid,
    IReadOnlyDictionary<WithdrawalReason, string> Withdrawals)
{
    public string Name => Device.Name;

    public bool IsWithdrawn => Withdrawals.Count > 0;

    /// <summary>Who holds it, independent of withdrawals: a claim (reserved, prepared, releasing), a scrub, or nobody.</summary>
    public DeviceAssignment Assignment => State switch
    {
        DeviceState.Reserved or DeviceState.Prepared or DeviceState.Releasing => DeviceAssignment.Prepared,
        DeviceState.Scrubbing => DeviceAssignment.Scrubbing,
        _ => DeviceAssignment.Free,
    };

    /// <summary>Offered to a tenant: durable proof of a verified scrub and nothing else holding it back.</summary>
    public bool IsOffered => State == DeviceState.Clean && !IsWithdrawn;
}
