using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

/// <summary>What a restarted plugin does with each checkpoint state (the process-kill variants are the lead's e2e tests).</summary>
public class RecoveryTests
{
    private static async Task WriteCheckpoint(PipelineHarness h, string bootId, params (int Claim, ClaimCheckpointState State, string[] Devices)[] claims)
    {
        var data = new CheckpointData { BootId = bootId };
        foreach (var (claim, state, devices) in claims)
        {
            data.Claims[TestClaims.Uid(claim)] = new CheckpointClaim
            {
                Namespace = "tenant",
                Name = $"claim-{claim}",
                State = state,
                Devices = [.. devices.Select(d => new CheckpointDevice { Name = d, Uuid = "GPU-" + d })],
                Prepared = state == ClaimCheckpointState.Prepared
                    ? [.. devices.Select(d => new CheckpointPreparedDevice { RequestNames = ["gpu"], PoolName = TestClaims.Node, DeviceName = d, CdiDeviceIds = [$"k8s.{TestClaims.Driver}/claim={TestClaims.Uid(claim)}-{d}"] })]
                    : null,
                DirtyDevices = state == ClaimCheckpointState.ScrubFailed ? [.. devices] : null,
            };
        }

        // The device records this build writes beside such claims; every other device is Clean.
        data.Devices = h.Backend.Devices.ToDictionary(d => d.Name, d => new CheckpointDeviceRecord { Uuid = d.Uuid, State = DurableDeviceState.Clean }, StringComparer.Ordinal);
        foreach (var (claim, state, devices) in claims)
        {
            foreach (var device in devices)
            {
                var record = data.Devices[device];
                (record.State, record.Claim, record.Reason) = state switch
                {
                    ClaimCheckpointState.Prepared => (DurableDeviceState.Prepared, TestClaims.Uid(claim), (string?)null),
                    ClaimCheckpointState.UnprepareStarted => (DurableDeviceState.Releasing, TestClaims.Uid(claim), null),
                    ClaimCheckpointState.ScrubFailed => (DurableDeviceState.Dirty, (string?)null, "ScrubFailed"),
                    _ => (DurableDeviceState.Clean, null, null),
                };
            }
        }

        await new CheckpointFile(h.DataDir, "checkpoint.json", 1 << 20).WriteAsync(data, CancellationToken.None);
    }

    private static async Task WriteCdi(PipelineHarness h, int claim)
    {
        Directory.CreateDirectory(h.CdiRoot);
        await File.WriteAllTextAsync(Path.Combine(h.CdiRoot, $"k8s.{TestClaims.Driver}-claim_{TestClaims.Uid(claim)}.json"), "{}");
    }

    [Fact]
    public async Task Prepare_started_is_rolled_back_unprepare_started_and_scrub_failed_stay_withdrawn()
    {
        await using var h = PipelineHarness.Create(4);
        await WriteCheckpoint(h, "boot-1",
            (1, ClaimCheckpointState.PrepareStarted, ["gpu-0"]),
            (2, ClaimCheckpointState.Prepared, ["gpu-1"]),
            (3, ClaimCheckpointState.UnprepareStarted, ["gpu-2"]),
            (4, ClaimCheckpointState.ScrubFailed, ["gpu-3"]));
        await WriteCdi(h, 1);
        await WriteCdi(h, 2);
        await WriteCdi(h, 3);
        await WriteCdi(h, 99); // leaked: no checkpoint entry
        await File.WriteAllTextAsync(Path.Combine(h.CdiRoot, $".k8s.{TestClaims.Driver}-claim_{TestClaims.Uid(5)}.json.abc.tmp"), "{");
        await File.WriteAllTextAsync(Path.Combine(h.CdiRoot, "other-vendor.yaml"), "kept");

        await h.StartAsync();

        Assert.Equal(DeviceAssignment.Free, h.Inventory.Get("gpu-0")!.Assignment);
        Assert.False(h.Inventory.Get("gpu-0")!.IsWithdrawn);
        Assert.Equal(TestClaims.Uid(2), h.Inventory.Get("gpu-1")!.ClaimUid);
        Assert.True(h.Inventory.Get("gpu-2")!.Withdrawals.ContainsKey(WithdrawalReason.VramDirty));
        Assert.True(h.Inventory.Get("gpu-3")!.Withdrawals.ContainsKey(WithdrawalReason.ScrubFailed));

        Assert.Null(h.Journal.Get(TestClaims.Uid(1)));
        Assert.Equal(ClaimCheckpointState.ScrubFailed, h.Journal.Get(TestClaims.Uid(3))!.State);
        Assert.Equal([$"k8s.{TestClaims.Driver}-claim_{TestClaims.Uid(2)}.json", "other-vendor.yaml"], h.CdiFiles());

        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);
        Assert.Equal(["gpu-0", "gpu-1"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
    }

    [Fact]
    public async Task Dirty_devices_return_after_a_verified_retry_scrub_and_the_checkpoint_forgets_them()
    {
        await using var h = PipelineHarness.Create(4);
        await WriteCheckpoint(h, "boot-1", (3, ClaimCheckpointState.UnprepareStarted, ["gpu-2"]), (4, ClaimCheckpointState.ScrubFailed, ["gpu-3"]));
        await h.StartAsync(loops: true);

        await Poll.UntilAsync(() => h.Api.Slices.Count == 1 && h.Api.Slices[0].Devices.Count == 4, "dirty devices scrubbed and republished");
        Assert.Empty(h.Journal.Claims());
        var reread = await new CheckpointFile(h.DataDir, "checkpoint.json", 1 << 20).ReadAsync(CancellationToken.None);
        Assert.Empty(reread!.Claims);
    }

    [Fact]
    public async Task Unprepare_of_a_recovered_claim_succeeds_once_the_withdrawal_is_published()
    {
        await using var h = PipelineHarness.Create(2);
        h.Scrubber.Default = ScrubBehavior.NotVerified; // retries keep failing: the device must stay out
        await WriteCheckpoint(h, "boot-1", (3, ClaimCheckpointState.UnprepareStarted, ["gpu-1"]));
        await h.StartAsync(loops: true);

        var result = await h.Pipeline.UnprepareAsync([TestClaims.Ref(3)], CancellationToken.None);

        Assert.Null(result[TestClaims.Uid(3)].Error);
        Assert.Equal(["gpu-0"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
        var prepare = await h.Pipeline.PrepareAsync([TestClaims.Ref(3)], CancellationToken.None);
        Assert.Contains("is being released", prepare[TestClaims.Uid(3)].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_reboot_no_claim_is_prepared_and_their_devices_stay_withdrawn_until_scrubbed()
    {
        await using var h = PipelineHarness.Create(3);
        await WriteCheckpoint(h, "boot-OLD", (1, ClaimCheckpointState.Prepared, ["gpu-0"]), (2, ClaimCheckpointState.PrepareStarted, ["gpu-1"]));
        await WriteCdi(h, 1);
        h.Scrubber.Default = ScrubBehavior.NotVerified;

        await h.StartAsync();

        Assert.Equal(DeviceAssignment.Free, h.Inventory.Get("gpu-0")!.Assignment);
        Assert.True(h.Inventory.Get("gpu-0")!.Withdrawals.ContainsKey(WithdrawalReason.VramDirty));
        Assert.False(h.Inventory.Get("gpu-1")!.IsWithdrawn);
        Assert.Equal(ClaimCheckpointState.ScrubFailed, h.Journal.Get(TestClaims.Uid(1))!.State);
        Assert.Null(h.Journal.Get(TestClaims.Uid(2)));
        Assert.Empty(h.CdiFiles());
        var reread = await new CheckpointFile(h.DataDir, "checkpoint.json", 1 << 20).ReadAsync(CancellationToken.None);
        Assert.Equal("boot-1", reread!.BootId);
    }

    [Fact]
    public async Task Corrupt_checkpoint_refuses_start_and_prepare_and_publishes_nothing()
    {
        await using var h = PipelineHarness.Create(2);
        Directory.CreateDirectory(h.DataDir);
        await File.WriteAllTextAsync(h.CheckpointPath, "garbage");

        var ex = await Assert.ThrowsAsync<CheckpointCorruptException>(() => h.StartAsync());
        Assert.Contains(h.CheckpointPath, ex.Message, StringComparison.Ordinal);

        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-0"));
        var result = await h.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None);
        Assert.Contains("is corrupt", result[TestClaims.Uid(1)].Error, StringComparison.Ordinal);
        Assert.Equal("garbage", await File.ReadAllTextAsync(h.CheckpointPath));
        Assert.Empty(h.Api.Slices);
    }

    [Fact]
    public async Task Checkpoint_that_gives_one_device_to_two_claims_is_corrupt()
    {
        await using var h = PipelineHarness.Create(2);
        await WriteCheckpoint(h, "boot-1", (1, ClaimCheckpointState.Prepared, ["gpu-0"]), (2, ClaimCheckpointState.Prepared, ["gpu-0"]));
        var ex = await Assert.ThrowsAsync<CheckpointCorruptException>(() => h.StartAsync());
        Assert.Contains("held by another claim", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Crash_points_are_named_and_an_unknown_name_is_refused()
    {
        Assert.Contains("prepare:after-cdi", CrashPoints.All);
        Assert.Contains("unprepare:after-scrub", CrashPoints.All);
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        var ex = Assert.Throws<ArgumentException>(() => services.AddClaimPipeline(new ClaimPipelineOptions { CrashAt = "nowhere" }));
        Assert.Contains("prepare:after-checkpoint-started", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unprepare_budget_must_fit_inside_the_kubelet_timeout()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        var ex = Assert.Throws<ArgumentException>(() => services.AddClaimPipeline(new ClaimPipelineOptions { UnprepareBudget = TimeSpan.FromSeconds(45) }));
        Assert.Contains("at most 40 s", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pipeline_resolves_from_di_as_the_contract()
    {
        await using var h = PipelineHarness.Create(1);
        Assert.IsType<ClaimPipeline>(h.Pipeline);
    }
}
