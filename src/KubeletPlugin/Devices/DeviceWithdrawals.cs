namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// The withdrawal API for components outside the claim pipeline (the health monitor): take a
/// device out of scheduling, or give it back, and optionally wait until the ResourceSlices on
/// the API server show it. The inventory stays the single owner of device state.
/// </summary>
public sealed class DeviceWithdrawals(DeviceInventory inventory, ISlicePublication publication)
{
    /// <summary>Withdraws and waits until the withdrawal is published; the token bounds the wait (API server down).</summary>
    public Task WithdrawAsync(string deviceName, WithdrawalReason reason, string detail, CancellationToken cancellationToken) =>
        publication.WaitForPublishedAsync(inventory.Withdraw(deviceName, reason, detail), cancellationToken);

    /// <summary>Clears one reason and waits until the result is published (the device reappears only when no reason is left).</summary>
    public Task ReturnAsync(string deviceName, WithdrawalReason reason, CancellationToken cancellationToken) =>
        publication.WaitForPublishedAsync(inventory.Return(deviceName, reason), cancellationToken);

    /// <summary>Reasons currently holding the device back; empty when it is schedulable.</summary>
    public IReadOnlyDictionary<WithdrawalReason, string> ReasonsFor(string deviceName) =>
        inventory.Get(deviceName)?.Withdrawals ?? new Dictionary<WithdrawalReason, string>();
}
