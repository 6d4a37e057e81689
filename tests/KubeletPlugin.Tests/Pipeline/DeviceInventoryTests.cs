using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

public class DeviceInventoryTests
{
    private static DeviceInventory Create(int n = 2)
    {
        var inventory = new DeviceInventory();
        inventory.Initialize(new FakeGpuBackend(Path.GetTempPath(), n).Devices);
        return inventory;
    }

    [Fact]
    public async Task Changes_bump_the_version_and_wake_waiters()
    {
        var inventory = Create();
        var seen = inventory.Version;
        var wait = inventory.WaitForChangeAsync(seen, CancellationToken.None);
        Assert.False(wait.IsCompleted);

        var v = inventory.Withdraw("gpu-0", WithdrawalReason.Unhealthy, "Xid 79");

        await wait.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(seen + 1, v);
        Assert.Equal(v, inventory.Withdraw("gpu-0", WithdrawalReason.Unhealthy, "Xid 79")); // same reason again: no change
    }

    [Fact]
    public void A_device_returns_only_when_every_reason_is_cleared()
    {
        var inventory = Create();
        inventory.Withdraw("gpu-0", WithdrawalReason.Unhealthy, "Xid 79");
        inventory.Withdraw("gpu-0", WithdrawalReason.ScrubFailed, "not verified");

        inventory.Return("gpu-0", WithdrawalReason.Unhealthy);
        Assert.True(inventory.Get("gpu-0")!.IsWithdrawn);

        Assert.True(inventory.TryBeginScrub("gpu-0", null));
        inventory.CompleteScrubClean("gpu-0");
        Assert.False(inventory.Get("gpu-0")!.IsWithdrawn);
    }

    [Fact]
    public void Scrub_of_a_claim_device_needs_that_claim()
    {
        var inventory = Create();
        inventory.Reserve("a", ["gpu-0"]);
        Assert.False(inventory.TryBeginScrub("gpu-0", "b"));
        Assert.False(inventory.TryBeginScrub("gpu-0", null));
        Assert.True(inventory.TryBeginScrub("gpu-0", "a"));
        Assert.Throws<DeviceReservationException>(() => inventory.Reserve("c", ["gpu-0"]));
        inventory.CompleteScrubFailed("gpu-0", "boom");
        Assert.Equal(DeviceAssignment.Free, inventory.Get("gpu-0")!.Assignment);
        Assert.Throws<DeviceReservationException>(() => inventory.Reserve("c", ["gpu-0"]));
    }

    [Fact]
    public void Reservation_is_all_or_nothing()
    {
        var inventory = Create();
        inventory.Reserve("a", ["gpu-1"]);
        Assert.Throws<DeviceReservationException>(() => inventory.Reserve("b", ["gpu-0", "gpu-1"]));
        Assert.Equal(DeviceAssignment.Free, inventory.Get("gpu-0")!.Assignment);
        inventory.Reserve("a", ["gpu-1"]); // idempotent for the same claim
    }
}
