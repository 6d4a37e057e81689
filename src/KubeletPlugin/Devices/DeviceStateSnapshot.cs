using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// One device as the inventory sees it at one instant. <see cref="Withdrawals"/> maps each
/// reason to its operator-facing detail; the device is schedulable only when it is empty.
/// </summary>
public sealed record DeviceStateSnapshot(
    GpuDevice Device,
    DeviceAssignment Assignment,
    string? ClaimUid,
    IReadOnlyDictionary<WithdrawalReason, string> Withdrawals)
{
    public string Name => Device.Name;

    public bool IsWithdrawn => Withdrawals.Count > 0;
}
