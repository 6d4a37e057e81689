using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Backends.Confidential;

namespace SecureDra.KubeletPlugin.Tests.Mig;

public class ConfidentialComputeTests
{
    private sealed class FakeCc : IConfidentialComputeBackend
    {
        public ConfidentialComputeState State { get; set; } = ConfidentialComputeState.Unsupported;

        public bool Fail { get; set; }

        public Task<ConfidentialComputeState> GetConfidentialComputeStateAsync(CancellationToken cancellationToken) =>
            Fail ? throw new InvalidOperationException("NVML_ERROR_UNINITIALIZED") : Task.FromResult(State);
    }

    private static ConfidentialComputeState On(bool? ready, bool devTools = false) => new(true, CcEnvironment.Production, true, devTools, CcMultiGpuMode.None, ready);

    [Fact]
    public async Task Gpus_are_withdrawn_while_cc_is_on_and_not_ready_and_return_when_ready()
    {
        var cc = new FakeCc { State = On(ready: false, devTools: true) };
        await using var h = PipelineHarness.Create(2, confidential: cc);
        await h.StartAsync();

        Assert.All(h.Inventory.Snapshot().Devices, d => Assert.Contains(WithdrawalReason.CcNotReady, d.Withdrawals.Keys));
        var gauge = h.Metrics.Gauge("securedra_cc_state", "", "field");
        Assert.Equal(1, gauge.Value("cc_enabled"));
        Assert.Equal(1, gauge.Value("devtools_mode"));
        Assert.Equal(0, gauge.Value("gpus_ready"));
        Assert.Throws<DeviceReservationException>(() => h.Inventory.Reserve("claim-a", ["gpu-0"]));

        cc.State = On(ready: true);
        var monitor = (ConfidentialComputeMonitor)h.Provider.GetService(typeof(ConfidentialComputeMonitor))!;
        await monitor.RefreshAsync(CancellationToken.None);
        Assert.All(h.Inventory.Snapshot().Devices, d => Assert.True(d.IsOffered, d.Name));
        Assert.Equal(1, gauge.Value("gpus_ready"));

        cc.State = On(ready: null); // the driver could not say: not ready
        await monitor.RefreshAsync(CancellationToken.None);
        Assert.Contains(WithdrawalReason.CcNotReady, h.Inventory.Get("gpu-1")!.Withdrawals.Keys);

        cc.State = On(ready: true);
        await monitor.RefreshAsync(CancellationToken.None);
        cc.Fail = true; // a failed read while CC is on: not ready, and no exception out of the loop
        await monitor.RefreshAsync(CancellationToken.None);
        Assert.Contains(WithdrawalReason.CcNotReady, h.Inventory.Get("gpu-0")!.Withdrawals.Keys);
    }

    [Fact]
    public async Task Mig_is_refused_while_cc_is_on()
    {
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { MigMode = MigMode.Dynamic }, mig: new FakeMigBackend(), confidential: new FakeCc { State = On(ready: true) });
        h.Backend.MigMode["gpu-0"] = true;
        await h.StartAsync();

        Assert.Empty(h.Inventory.Snapshot().Partitions);
        Assert.Contains(WithdrawalReason.MigModeEnabled, h.Inventory.Get("gpu-0")!.Withdrawals.Keys);
        Assert.True(h.Inventory.Get("gpu-1")!.IsOffered);
    }

    [Fact]
    public async Task Without_cc_nothing_changes()
    {
        await using var h = PipelineHarness.Create(2, confidential: new FakeCc());
        await h.StartAsync();

        Assert.All(h.Inventory.Snapshot().Devices, d => Assert.True(d.IsOffered, d.Name));
        Assert.Equal(0, h.Metrics.Gauge("securedra_cc_state", "", "field").Value("supported"));
    }
}
