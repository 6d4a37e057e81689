using SecureDra.KubeletPlugin.Devices;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// The proxy publishes no slices: a dirty GPU is withdrawn by the proxy's own refusal at Prepare (the inventory keeps
/// it Dirty until a verified scrub), which holds as soon as the inventory records it. So every version counts as
/// published at once. A DeviceTaintRule writer, where the cluster serves it, adds the scheduler-side withdrawal.
/// </summary>
public sealed class ProxyWithdrawalPublication(DeviceInventory inventory) : ISlicePublication
{
    public long PublishedVersion => inventory.Version;

    public Task WaitForPublishedAsync(long inventoryVersion, CancellationToken cancellationToken) => Task.CompletedTask;
}
