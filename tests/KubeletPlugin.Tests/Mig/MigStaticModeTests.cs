using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.KubeletPlugin.Tests.Mig;

public class MigStaticModeTests
{
    [Fact]
    public async Task Static_mode_publishes_exactly_the_existing_instances_with_their_mig_uuids_and_no_counters()
    {
        var mig = new FakeMigBackend();
        mig.Instances.Add(new MigInstance("gpu-0", 1, 9, "3g.20gb", new MigPlacement(0, 4), 19968L << 20, [new MigComputeInstance(0, 0)], "MIG-aaaaaaaa-0000-0000-0000-000000000001"));
        mig.Instances.Add(new MigInstance("gpu-0", 2, 14, "2g.10gb", new MigPlacement(4, 2), 9856L << 20, [new MigComputeInstance(0, 0)], "MIG-aaaaaaaa-0000-0000-0000-000000000002"));
        mig.Instances.Add(new MigInstance("gpu-0", 3, 19, "1g.5gb", new MigPlacement(6, 1), 4864L << 20, [], null)); // no compute instance: not usable, not published
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { MigMode = MigMode.Static }, mig: mig);
        h.Backend.MigMode["gpu-0"] = true;
        await h.StartAsync();
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);

        var devices = h.Api.Slices.SelectMany(s => s.Devices).ToDictionary(d => d.Name);
        Assert.Equal(["gpu-0-mig-2g10gb-14-4", "gpu-0-mig-3g20gb-9-0", "gpu-1"], devices.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(DeviceAttributeValue.Of("MIG-aaaaaaaa-0000-0000-0000-000000000001"), devices["gpu-0-mig-3g20gb-9-0"].Attributes["uuid"]);
        Assert.Equal(DeviceAttributeValue.Of("mig"), devices["gpu-0-mig-2g10gb-14-4"].Attributes["type"]);
        Assert.All(h.Api.Slices, s => Assert.Empty(s.SharedCounters ?? []));
        Assert.All(devices.Values, d => Assert.Empty(d.ConsumesCounters ?? []));

        // A dirty slice under one instance withdraws that instance only.
        h.Inventory.Withdraw("gpu-0-mig-2g10gb-14-4", WithdrawalReason.ScrubFailed, "test");
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);
        Assert.Equal(["gpu-0-mig-3g20gb-9-0", "gpu-1"], h.Api.Slices.SelectMany(s => s.Devices).Select(d => d.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Off_mode_keeps_a_mig_gpu_withdrawn_and_publishes_no_mig_device()
    {
        var mig = new FakeMigBackend();
        mig.Instances.Add(new MigInstance("gpu-0", 1, 9, "3g.20gb", new MigPlacement(0, 4), 19968L << 20, [new MigComputeInstance(0, 0)], "MIG-aaaaaaaa-0000-0000-0000-000000000001"));
        await using var h = PipelineHarness.Create(2, mig: mig);
        h.Backend.MigMode["gpu-0"] = true;
        await h.StartAsync();
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);

        Assert.Equal(["gpu-1"], h.Api.Slices.SelectMany(s => s.Devices).Select(d => d.Name));
        Assert.Empty(h.Inventory.Snapshot().Partitions);
        Assert.Contains(WithdrawalReason.MigModeEnabled, h.Inventory.Get("gpu-0")!.Withdrawals.Keys);
    }
}
