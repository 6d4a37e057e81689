using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.MigManager;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Tests.Mig;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.MigManager;

/// <summary>
/// The monitor without a manager process: a socket nobody listens on is "unreachable" at the first ping (no start-up
/// grace for the question "does it answer now"). Dynamic mode withdraws the partitioned GPU and every placement with
/// it (the overlay), but marks no free slice dirty: a placement without an instance holds nobody's memory. GPUs not in
/// MIG mode are untouched.
/// </summary>
public sealed class MigManagerMonitorTests : IAsyncLifetime
{
    private readonly TempDir _dir = TempDir.Create();
    private PipelineHarness _h = null!;

    public async Task InitializeAsync()
    {
        _h = PipelineHarness.Create(2, new ClaimPipelineOptions { MigMode = MigMode.Dynamic }, mig: new FakeMigBackend());
        _h.Backend.MigMode["gpu-0"] = true;
        await _h.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task An_unreachable_manager_withdraws_the_partitioned_gpu_and_its_placements_without_dirtying_free_slices()
    {
        using var client = new MigManagerClient(new MigManagerClientOptions { SocketPath = Path.Combine(_dir.Path, "nobody.sock"), CallTimeout = TimeSpan.FromSeconds(5) },
            _h.Metrics, TimeProvider.System, NullLogger<MigManagerClient>.Instance);
        var monitor = new MigManagerMonitor(client, _h.Inventory, _h.Journal, _h.Options, _h.Metrics, TimeProvider.System, NullLogger<MigManagerMonitor>.Instance);
        Assert.Contains(_h.Inventory.Snapshot().Partitions.Single().Placements, p => p.IsOffered);

        var started = DateTime.UtcNow;
        await monitor.CheckAsync(CancellationToken.None);

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30), "the monitor's ping waited out a start-up grace");
        Assert.False(monitor.Reachable);
        var partition = _h.Inventory.Snapshot().Partitions.Single();
        Assert.All(partition.Placements, p =>
        {
            Assert.False(p.IsOffered, p.Name);
            Assert.Contains(WithdrawalReason.MigManagerUnavailable, p.Withdrawals.Keys);
            Assert.Equal(DeviceState.Clean, p.State);
        });
        Assert.DoesNotContain(WithdrawalReason.MigManagerUnavailable, _h.Inventory.Get("gpu-1")!.Withdrawals.Keys);
        Assert.True(_h.Inventory.Get("gpu-1")!.IsOffered);
        Assert.Contains("securedra_mig_manager_client_failures_total{operation=\"Ping\"} 1", _h.Metrics.Render(), StringComparison.Ordinal);

        // A second failed ping changes nothing and counts no second outage.
        await monitor.CheckAsync(CancellationToken.None);
        Assert.Contains("securedra_mig_manager_unavailable_total 1", _h.Metrics.Render(), StringComparison.Ordinal);
    }
}
