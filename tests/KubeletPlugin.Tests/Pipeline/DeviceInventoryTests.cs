using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

public sealed class DeviceInventoryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "securedra-inventory-" + Guid.NewGuid().ToString("N")[..12]);

    private ClaimJournal Journal { get; }

    public DeviceInventoryTests()
    {
        Journal = new ClaimJournal(new CheckpointFile(_dir, "checkpoint.json", 1 << 20), new MetricsRegistry());
        Journal.Load(new CheckpointData());
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>The device's record as the next commit makes it durable, read back from the checkpoint file.</summary>
    private async Task<CheckpointDeviceRecord> DurableRecordAsync(string deviceName)
    {
        await Journal.CommitAsync(CancellationToken.None);
        var onDisk = await Journal.File.ReadAsync(CancellationToken.None);
        return onDisk!.Devices![deviceName];
    }

    /// <summary>Devices restored Clean from a checkpoint that proves it, as start-up leaves them.</summary>
    private DeviceInventory Create(int n = 2)
    {
        var inventory = new DeviceInventory(Journal);
        var devices = new FakeGpuBackend(Path.GetTempPath(), n).Devices;
        inventory.Initialize(devices);
        var records = devices.ToDictionary(d => d.Name, d => new CheckpointDeviceRecord { Uuid = d.Uuid, State = DurableDeviceState.Clean });
        inventory.Restore(records, new Dictionary<string, CheckpointClaim>(), new HashSet<string>(), rebooted: false);
        inventory.RecordAll();
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
    public async Task A_device_returns_only_when_every_reason_is_cleared()
    {
        var inventory = Create();
        inventory.Withdraw("gpu-0", WithdrawalReason.Unhealthy, "Xid 79");
        Assert.True(inventory.TryBeginScrub("gpu-0", null));
        await inventory.CompleteScrubAsync("gpu-0", verified: false, "not verified", CancellationToken.None);

        inventory.Return("gpu-0", WithdrawalReason.Unhealthy);
        Assert.True(inventory.Get("gpu-0")!.IsWithdrawn);
        Assert.Equal("not verified", inventory.Get("gpu-0")!.Withdrawals[WithdrawalReason.ScrubFailed]);

        Assert.True(inventory.TryBeginScrub("gpu-0", null));
        await inventory.CompleteScrubAsync("gpu-0", verified: true, "verified", CancellationToken.None);
        Assert.False(inventory.Get("gpu-0")!.IsWithdrawn);
        Assert.True(inventory.Get("gpu-0")!.IsOffered);
    }

    [Fact]
    public async Task Scrub_of_a_claim_device_needs_that_claim()
    {
        var inventory = Create();
        inventory.Reserve("a", ["gpu-0"]);
        inventory.MarkPrepared("a", ["gpu-0"]);
        inventory.BeginRelease("a", ["gpu-0"]);
        Assert.False(inventory.TryBeginScrub("gpu-0", "b"));
        Assert.False(inventory.TryBeginScrub("gpu-0", null));
        Assert.True(inventory.TryBeginScrub("gpu-0", "a"));
        Assert.Throws<DeviceReservationException>(() => inventory.Reserve("c", ["gpu-0"]));
        await inventory.CompleteScrubAsync("gpu-0", verified: false, "boom", CancellationToken.None);
        Assert.Equal(DeviceAssignment.Free, inventory.Get("gpu-0")!.Assignment);
        Assert.Equal(DeviceState.Dirty, inventory.Get("gpu-0")!.State);
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

    [Fact]
    public void A_device_without_a_record_is_unknown_and_never_reserved()
    {
        var inventory = new DeviceInventory(Journal);
        inventory.Initialize(new FakeGpuBackend(Path.GetTempPath(), 1).Devices);
        inventory.Restore(null, new Dictionary<string, CheckpointClaim>(), new HashSet<string>(), rebooted: false);

        Assert.Equal(DeviceState.Unknown, inventory.Get("gpu-0")!.State);
        Assert.True(inventory.Get("gpu-0")!.Withdrawals.ContainsKey(WithdrawalReason.VramDirty));
        var ex = Assert.Throws<DeviceReservationException>(() => inventory.Reserve("a", ["gpu-0"]));
        Assert.Contains("withdrawn", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_for_another_gpu_under_the_same_name_proves_nothing()
    {
        var inventory = new DeviceInventory(Journal);
        inventory.Initialize(new FakeGpuBackend(Path.GetTempPath(), 1).Devices);
        var records = new Dictionary<string, CheckpointDeviceRecord> { ["gpu-0"] = new() { Uuid = "GPU-someone-else", State = DurableDeviceState.Clean } };
        inventory.Restore(records, new Dictionary<string, CheckpointClaim>(), new HashSet<string>(), rebooted: false);
        Assert.Equal(DeviceState.Unknown, inventory.Get("gpu-0")!.State);
    }

    [Fact]
    public async Task Cleanliness_can_be_lost_by_anyone_but_only_a_scrub_restores_it()
    {
        var inventory = Create();
        inventory.Withdraw("gpu-0", WithdrawalReason.ScrubFailed, "x");
        Assert.Equal(DurableDeviceState.Dirty, (await DurableRecordAsync("gpu-0")).State);
        Assert.Throws<ArgumentException>(() => inventory.Return("gpu-0", WithdrawalReason.ScrubFailed));
        Assert.Throws<ArgumentException>(() => inventory.Return("gpu-0", WithdrawalReason.VramDirty));
        Assert.Equal(DeviceState.Dirty, inventory.Get("gpu-0")!.State);

        inventory.Reserve("a", ["gpu-1"]);
        Assert.Throws<InvalidOperationException>(() => inventory.Withdraw("gpu-1", WithdrawalReason.VramDirty, "x"));
    }

    [Fact]
    public async Task A_verified_scrub_is_durable_before_the_device_is_offered()
    {
        var inventory = Create();
        inventory.Reserve("a", ["gpu-0"]);
        inventory.MarkPrepared("a", ["gpu-0"]);
        inventory.BeginRelease("a", ["gpu-0"]);
        await Journal.CommitAsync(CancellationToken.None);
        Assert.True(inventory.TryBeginScrub("gpu-0", "a"));

        // While scrubbing, the record still says Releasing: a crash now leaves it dirty.
        Assert.Equal(DurableDeviceState.Releasing, (await DurableRecordAsync("gpu-0")).State);
        await inventory.CompleteScrubAsync("gpu-0", verified: true, "verified", CancellationToken.None);

        var onDisk = await Journal.File.ReadAsync(CancellationToken.None);
        Assert.Equal(DurableDeviceState.Clean, onDisk!.Devices!["gpu-0"].State);
        Assert.True(inventory.Get("gpu-0")!.IsOffered);
    }

    [Fact]
    public async Task Mig_mode_withdraws_and_leaves_the_device_dirty_until_a_scrub_verifies()
    {
        var inventory = Create();
        Assert.True(inventory.SetMigMode("gpu-0", enabled: true));
        Assert.True(inventory.Get("gpu-0")!.Withdrawals.ContainsKey(WithdrawalReason.MigModeEnabled));
        Assert.Equal(DurableDeviceState.Dirty, (await DurableRecordAsync("gpu-0")).State);

        Assert.True(inventory.SetMigMode("gpu-0", enabled: false));
        Assert.False(inventory.Get("gpu-0")!.IsOffered);
        Assert.True(inventory.TryBeginScrub("gpu-0", null));
        await inventory.CompleteScrubAsync("gpu-0", verified: true, "verified", CancellationToken.None);
        Assert.True(inventory.Get("gpu-0")!.IsOffered);
    }
}
