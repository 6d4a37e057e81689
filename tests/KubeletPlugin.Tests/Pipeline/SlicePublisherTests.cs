using System.Net;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

public class SlicePublisherTests
{
    private static double Writes(PipelineHarness h, string op) => h.Metrics.Counter("securedra_resourceslice_writes_total", "", "op").Value(op);

    [Fact]
    public async Task Publishes_one_pool_with_owner_generate_name_and_generation()
    {
        await using var h = PipelineHarness.Create(4);
        await h.StartAsync();

        Assert.Equal(1, await h.Publisher.ReconcileOnceAsync(CancellationToken.None));

        var slice = Assert.Single(h.Api.Slices);
        Assert.Equal(TestClaims.Node, slice.PoolName);
        Assert.Equal(TestClaims.Node, slice.NodeName);
        Assert.Equal(TestClaims.Driver, slice.Driver);
        Assert.Equal($"{TestClaims.Node}-{TestClaims.Driver}-", slice.GenerateName);
        Assert.StartsWith($"{TestClaims.Node}-{TestClaims.Driver}-", slice.Name, StringComparison.Ordinal);
        Assert.Equal(1, slice.PoolGeneration);
        Assert.Equal(1, slice.ResourceSliceCount);
        Assert.Equal(["gpu-0", "gpu-1", "gpu-2", "gpu-3"], slice.Devices.Select(d => d.Name));
        Assert.Equal(new SecureDra.Kube.Resources.OwnerReference("v1", "Node", TestClaims.Node, "node-uid-1", true), slice.Owner);
        Assert.Equal(1, Writes(h, "create"));
    }

    [Fact]
    public async Task Steady_state_writes_nothing()
    {
        await using var h = PipelineHarness.Create(4);
        await h.StartAsync();
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);
        var writes = h.Api.Writes;

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(0, await h.Publisher.ReconcileOnceAsync(CancellationToken.None));
        }

        Assert.Equal(writes, h.Api.Writes);
    }

    [Fact]
    public async Task Withdrawal_and_return_cost_one_write_each_and_bump_generation()
    {
        await using var h = PipelineHarness.Create(4);
        await h.StartAsync();
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);

        var v = h.Inventory.Withdraw("gpu-2", WithdrawalReason.Unhealthy, "Xid 79");
        Assert.Equal(1, await h.Publisher.ReconcileOnceAsync(CancellationToken.None));
        var slice = Assert.Single(h.Api.Slices);
        Assert.Equal(["gpu-0", "gpu-1", "gpu-3"], slice.Devices.Select(d => d.Name));
        Assert.Equal(2, slice.PoolGeneration);
        Assert.True(h.Publisher.PublishedVersion >= v);

        h.Inventory.Return("gpu-2", WithdrawalReason.Unhealthy);
        Assert.Equal(1, await h.Publisher.ReconcileOnceAsync(CancellationToken.None));
        Assert.Equal(3, Assert.Single(h.Api.Slices).PoolGeneration);
        Assert.Equal(4, Assert.Single(h.Api.Slices).Devices.Count);
        Assert.Equal(2, Writes(h, "update"));
    }

    [Fact]
    public async Task Taint_mode_keeps_the_device_with_a_NoSchedule_taint()
    {
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { WithdrawalMode = WithdrawalMode.TaintNoSchedule });
        await h.StartAsync();
        h.Inventory.Withdraw("gpu-1", WithdrawalReason.ScrubFailed, "not verified");
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);

        var device = Assert.Single(h.Api.Slices).Devices.Single(d => d.Name == "gpu-1");
        var taint = Assert.Single(device.Taints);
        Assert.Equal(DeviceTaintKeys.ScrubFailed, taint.Key);
        Assert.Equal("NoSchedule", taint.Effect);
    }

    [Fact]
    public async Task Taints_dropped_by_the_server_fall_back_to_removal()
    {
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { WithdrawalMode = WithdrawalMode.TaintNoSchedule });
        h.Api.DropTaints = true;
        await h.StartAsync();
        h.Inventory.Withdraw("gpu-1", WithdrawalReason.VramDirty, "dirty");
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);

        Assert.True(h.Publisher.TaintsRejected);
        Assert.Equal(["gpu-0"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
        Assert.Equal(0, await h.Publisher.ReconcileOnceAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Taints_on_kubernetes_132_are_never_sent()
    {
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { WithdrawalMode = WithdrawalMode.TaintNoSchedule, KubernetesMinorVersion = 32 });
        await h.StartAsync();
        h.Inventory.Withdraw("gpu-0", WithdrawalReason.VramDirty, "dirty");
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);
        Assert.Equal(["gpu-1"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
    }

    [Fact]
    public async Task More_than_128_devices_split_into_slices_with_the_right_count()
    {
        await using var h = PipelineHarness.Create(200);
        await h.StartAsync();
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);

        var slices = h.Api.Slices;
        Assert.Equal(2, slices.Count);
        Assert.All(slices, s => Assert.Equal(2, s.ResourceSliceCount));
        Assert.Equal(200, slices.Sum(s => s.Devices.Count));
        Assert.Equal(128, slices.Max(s => s.Devices.Count));
        Assert.Equal(200, slices.SelectMany(s => s.Devices).Select(d => d.Name).Distinct().Count());
    }

    [Fact]
    public async Task Tainted_devices_limit_slices_to_64_from_135_and_obsolete_slices_are_deleted()
    {
        await using var h = PipelineHarness.Create(100, new ClaimPipelineOptions { WithdrawalMode = WithdrawalMode.TaintNoSchedule });
        await h.StartAsync();
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);
        Assert.Single(h.Api.Slices);

        h.Inventory.Withdraw("gpu-5", WithdrawalReason.Unhealthy, "Xid 48");
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);
        Assert.Equal(2, h.Api.Slices.Count);
        Assert.All(h.Api.Slices, s => Assert.True(s.Devices.Count <= 64));
        Assert.All(h.Api.Slices, s => Assert.Equal(2, s.PoolGeneration));

        h.Inventory.Return("gpu-5", WithdrawalReason.Unhealthy);
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);
        var slice = Assert.Single(h.Api.Slices);
        Assert.Equal(100, slice.Devices.Count);
        Assert.Equal(3, slice.PoolGeneration);
        Assert.Equal(1, slice.ResourceSliceCount);
        Assert.Equal(1, Writes(h, "delete"));
    }

    [Fact]
    public async Task Kubernetes_134_keeps_128_devices_with_taints()
    {
        await using var h = PipelineHarness.Create(100, new ClaimPipelineOptions { WithdrawalMode = WithdrawalMode.TaintNoSchedule, KubernetesMinorVersion = 34 });
        h.Api.MaxDevicesWithTaints = 128;
        await h.StartAsync();
        h.Inventory.Withdraw("gpu-5", WithdrawalReason.Unhealthy, "Xid 48");
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);
        Assert.Equal(100, Assert.Single(h.Api.Slices).Devices.Count);
    }

    [Fact]
    public async Task Empty_node_still_publishes_an_empty_pool()
    {
        await using var h = PipelineHarness.Create(0);
        await h.StartAsync();
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);
        Assert.Empty(Assert.Single(h.Api.Slices).Devices);
    }

    [Fact]
    public async Task Missing_node_publishes_without_owner_then_adds_it()
    {
        await using var h = PipelineHarness.Create(1);
        h.Kube.NodeUid = null;
        await h.StartAsync();
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);
        Assert.Null(Assert.Single(h.Api.Slices).Owner);

        h.Kube.NodeUid = "late-uid";
        Assert.Equal(1, await h.Publisher.ReconcileOnceAsync(CancellationToken.None));
        Assert.Equal("late-uid", Assert.Single(h.Api.Slices).Owner?.Uid);
    }

    [Fact]
    public async Task Loop_at_steady_state_relists_but_writes_nothing()
    {
        await using var h = PipelineHarness.Create(8, new ClaimPipelineOptions { SliceResyncInterval = TimeSpan.FromMilliseconds(20) });
        await h.StartAsync(loops: true);
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1, "slices published");
        var writes = h.Api.Writes;
        var lists = h.Api.SliceLists;

        await Poll.UntilAsync(() => h.Api.SliceLists >= lists + 10, "ten more resync passes, each relisting");

        Assert.Equal(writes, h.Api.Writes);
        Assert.Equal(1, Writes(h, "create") + Writes(h, "update") + Writes(h, "delete"));
    }

    [Fact]
    public async Task Loop_recreates_slices_the_kubelet_wiped()
    {
        await using var h = PipelineHarness.Create(2);
        await h.StartAsync(loops: true);
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1, "slices published");

        h.Api.WipeSlices();
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1, "slices re-created after the wipe");
        Assert.Equal(2, h.Api.Creates);
    }

    [Fact]
    public async Task Loop_reacts_to_inventory_changes_and_backs_off_on_500_and_409()
    {
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { SliceResyncInterval = TimeSpan.FromMinutes(10) });
        await h.StartAsync(loops: true);
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1, "slices published");

        h.Api.FailNext(1, HttpStatusCode.Conflict);
        h.Api.FailNext(2, HttpStatusCode.InternalServerError);
        var v = h.Inventory.Withdraw("gpu-0", WithdrawalReason.Unhealthy, "Xid 79");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await h.Publisher.WaitForPublishedAsync(v, cts.Token);

        Assert.Equal(["gpu-1"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
        Assert.True(h.Metrics.Counter("securedra_resourceslice_sync_errors_total", "").Value() >= 3);
    }

    [Fact]
    public async Task Publication_wait_times_out_while_the_api_server_is_down()
    {
        await using var h = PipelineHarness.Create(2);
        await h.StartAsync(loops: true);
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1, "slices published");

        h.Api.Down = true;
        var v = h.Inventory.Withdraw("gpu-0", WithdrawalReason.Unhealthy, "Xid 79");
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Publisher.WaitForPublishedAsync(v, cts.Token));

        h.Api.Down = false;
        using var cts2 = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await h.Publisher.WaitForPublishedAsync(v, cts2.Token);
    }
    [Fact]
    public async Task A_change_that_renders_the_same_is_published_without_a_list_and_a_withdrawal_still_lists_and_writes()
    {
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { SliceResyncInterval = TimeSpan.FromMinutes(10) });
        await h.StartAsync(loops: true);
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1 && h.Publisher.PublishedVersion >= h.Inventory.Version, "slices published");
        var lists = h.Api.SliceLists;
        var writes = h.Api.Writes;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        // A Prepare's inventory changes (reserve, then prepared) and a release: the rendering does not change.
        h.Inventory.Reserve("claim-a", ["gpu-0"]);
        h.Inventory.MarkPrepared("claim-a", ["gpu-0"]);
        h.Inventory.Release("claim-a", ["gpu-0"]);
        await h.Publisher.WaitForPublishedAsync(h.Inventory.Version, cts.Token);
        Assert.Equal(lists, h.Api.SliceLists);
        Assert.Equal(writes, h.Api.Writes);

        // A withdrawal renders differently: it is listed, written, and only then reported published.
        var v = h.Inventory.Withdraw("gpu-1", WithdrawalReason.Unhealthy, "Xid 79");
        await h.Publisher.WaitForPublishedAsync(v, cts.Token);
        Assert.True(h.Api.SliceLists > lists, "the withdrawal's pass listed the slices");
        Assert.Equal(["gpu-0"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
    }

    private static double Passes(PipelineHarness h, string result) => h.Metrics.Counter(ResourceSlicePublisher.PassesMetric, "", "result").Value(result);

    [Fact]
    public async Task A_claim_s_inventory_changes_are_published_without_rendering_and_a_withdrawal_still_renders_lists_and_writes()
    {
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { SliceResyncInterval = TimeSpan.FromMinutes(10) });
        await h.StartAsync(loops: true);
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1 && h.Publisher.PublishedVersion >= h.Inventory.Version, "slices published");
        var (lists, writes, listed, sameRendering) = (h.Api.SliceLists, h.Api.Writes, Passes(h, "listed"), Passes(h, "same_rendering"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        // Reserve, prepared, release: none of them changes a device, a withdrawal, the gate or an attribute.
        h.Inventory.Reserve("claim-a", ["gpu-0"]);
        h.Inventory.MarkPrepared("claim-a", ["gpu-0"]);
        h.Inventory.Release("claim-a", ["gpu-0"]);
        await h.Publisher.WaitForPublishedAsync(h.Inventory.Version, cts.Token);
        Assert.True(Passes(h, "same_inputs") >= 1, "at least one pass published the changes without rendering");
        Assert.Equal(sameRendering, Passes(h, "same_rendering"));
        Assert.Equal(listed, Passes(h, "listed"));
        Assert.Equal((lists, writes), (h.Api.SliceLists, h.Api.Writes));

        // A withdrawal is an input: rendered, listed, written, and only then reported published.
        var v = h.Inventory.Withdraw("gpu-1", WithdrawalReason.Unhealthy, "Xid 79");
        await h.Publisher.WaitForPublishedAsync(v, cts.Token);
        Assert.Equal(listed + 1, Passes(h, "listed"));
        Assert.Equal(["gpu-0"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
    }

    [Fact]
    public async Task A_withdrawn_device_s_second_reason_is_rendered_and_a_reason_s_new_text_is_not()
    {
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { SliceResyncInterval = TimeSpan.FromMinutes(10) });
        await h.StartAsync(loops: true);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await h.Publisher.WaitForPublishedAsync(h.Inventory.Withdraw("gpu-1", WithdrawalReason.Unhealthy, "Xid 79"), cts.Token);
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1 && h.Api.Slices[0].Devices.Count == 1, "gpu-1 removed from the slice");
        var (lists, listed, sameRendering, sameInputs) = (h.Api.SliceLists, Passes(h, "listed"), Passes(h, "same_rendering"), Passes(h, "same_inputs"));

        // Only the reasons are rendered (as taints), not their texts: a new text changes no input.
        await h.Publisher.WaitForPublishedAsync(h.Inventory.Withdraw("gpu-1", WithdrawalReason.Unhealthy, "Xid 48"), cts.Token);
        Assert.Equal(sameInputs + 1, Passes(h, "same_inputs"));

        // A second reason is an input, so the device is rendered again; removed either way, it renders the same as
        // published and needs no LIST.
        await h.Publisher.WaitForPublishedAsync(h.Inventory.Withdraw("gpu-1", WithdrawalReason.ScrubFailed, "verify failed"), cts.Token);
        Assert.Equal(sameRendering + 1, Passes(h, "same_rendering"));
        Assert.Equal((listed, lists), (Passes(h, "listed"), h.Api.SliceLists));
        Assert.Equal(["gpu-0"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
    }

    [Fact]
    public async Task A_withdrawal_whose_pass_failed_is_never_reported_published_by_a_later_change_that_renders_the_same()
    {
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { SliceResyncInterval = TimeSpan.FromMinutes(10) });
        await h.StartAsync(loops: true);
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1 && h.Publisher.PublishedVersion >= h.Inventory.Version, "slices published");

        h.Api.Down = true;
        var withdrawn = h.Inventory.Withdraw("gpu-1", WithdrawalReason.Unhealthy, "Xid 79");
        h.Inventory.Reserve("claim-a", ["gpu-0"]); // a later change: its version includes the withdrawal, so it must not ride on the last good pass
        using (var shortWait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Publisher.WaitForPublishedAsync(withdrawn, shortWait.Token));
        }

        Assert.Equal(["gpu-0", "gpu-1"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
        h.Api.Down = false;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await h.Publisher.WaitForPublishedAsync(h.Inventory.Version, cts.Token);
        Assert.Equal(["gpu-0"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
    }

    [Fact]
    public async Task The_resync_still_repairs_a_wipe_while_changes_that_render_the_same_keep_coming()
    {
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { SliceResyncInterval = TimeSpan.FromMilliseconds(500) });
        await h.StartAsync(loops: true);
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1, "slices published");

        h.Api.WipeSlices();
        using var stop = new CancellationTokenSource();
        var churn = Task.Run(async () =>
        {
            // Each change wakes the loop before its resync is due; every pass it makes on them may skip the LIST.
            // The delay only paces the churn (so it does not take a core from parallel tests); nothing waits on it.
            while (!stop.IsCancellationRequested)
            {
                h.Inventory.Reserve("claim-a", ["gpu-0"]);
                h.Inventory.Release("claim-a", ["gpu-0"]);
                await Task.Delay(2, CancellationToken.None);
            }
        });
        try
        {
            await Poll.UntilAsync(() => h.Api.Slices.Count == 1, "slices re-created by the resync despite the churn");
        }
        finally
        {
            await stop.CancelAsync();
            await churn;
        }

        Assert.Equal(2, h.Api.Creates);
    }
}
