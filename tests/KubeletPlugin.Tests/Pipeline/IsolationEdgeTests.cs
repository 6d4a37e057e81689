using Microsoft.Extensions.Time.Testing;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

/// <summary>The edges of a device's life (issue 10): each must fail safe, in process against the real pipeline.</summary>
public class IsolationEdgeTests
{
    private static CheckpointFile File(PipelineHarness h) => new(h.DataDir, "checkpoint.json", 1 << 20);

    [Fact]
    public async Task First_install_scrubs_every_device_before_publishing_and_keeps_a_failed_one_out()
    {
        await using var h = PipelineHarness.Create(3, provenClean: false);
        h.Backend.WriteCanary("gpu-0");
        h.Backend.WriteCanary("gpu-2");
        h.Scrubber.Plan("gpu-2", ScrubBehavior.NotVerified);

        await h.StartAsync();
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);

        Assert.Equal(3, h.Scrubber.Calls);
        Assert.False(h.Backend.HoldsCanary("gpu-0"));
        Assert.Equal(["gpu-0", "gpu-1"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
        Assert.Equal(DeviceState.Dirty, h.Inventory.Get("gpu-2")!.State);
        var onDisk = await File(h).ReadAsync(CancellationToken.None);
        Assert.Equal(DurableDeviceState.Clean, onDisk!.Devices!["gpu-0"].State);
        Assert.Equal(DurableDeviceState.Dirty, onDisk.Devices["gpu-2"].State);

        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-2"));
        var refused = await h.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None);
        Assert.Contains("withdrawn from scheduling", refused[TestClaims.Uid(1)].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_recovery_advice_for_a_corrupt_checkpoint_is_safe_to_follow()
    {
        await using var h = PipelineHarness.Create(2);
        await h.StartAsync(loops: true);
        h.Scrubber.Default = ScrubBehavior.NotVerified;
        await PrepareAsync(h, 1, "gpu-1");
        h.Backend.WriteCanary("gpu-1");
        Assert.Null((await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);
        Assert.Equal(DeviceState.Dirty, h.Inventory.Get("gpu-1")!.State);
        await h.StopAsync();

        await System.IO.File.WriteAllTextAsync(h.CheckpointPath, "garbage");
        var ex = await Assert.ThrowsAsync<CheckpointCorruptException>(() => h.RestartAsync());
        Assert.Contains($"mv {h.CheckpointPath} {h.CheckpointPath}.bad", ex.Message, StringComparison.Ordinal);

        // Follow it: move the file aside and restart. The GPU whose scrub failed must not come back.
        System.IO.File.Move(h.CheckpointPath, h.CheckpointPath + ".bad");
        await h.RestartAsync();
        await h.Publisher.ReconcileOnceAsync(CancellationToken.None);

        Assert.Empty(Assert.Single(h.Api.Slices).Devices);
        Assert.True(h.Backend.HoldsCanary("gpu-1"));
        Assert.Equal(DeviceState.Dirty, h.Inventory.Get("gpu-1")!.State);
    }

    [Fact]
    public async Task A_checkpoint_from_before_device_records_proves_nothing_clean()
    {
        await using var h = PipelineHarness.Create(2);
        var legacy = new CheckpointData { BootId = "boot-1" };
        await File(h).WriteAsync(legacy, CancellationToken.None);
        h.Backend.WriteCanary("gpu-0");

        await h.StartAsync();

        Assert.Equal(2, h.Scrubber.Calls);
        Assert.False(h.Backend.HoldsCanary("gpu-0"));
        Assert.True(h.Inventory.Get("gpu-0")!.IsOffered);
    }

    [Fact]
    public async Task A_crash_in_the_release_window_does_not_wedge_start_up()
    {
        // Claim 1 released gpu-0 (verified, durable Clean), claim 2 was prepared on it and committed,
        // then the process died while gpu-1 of claim 1 was still scrubbing.
        await using var h = PipelineHarness.Create(3);
        var data = new CheckpointData { BootId = "boot-1" };
        data.Claims[TestClaims.Uid(1)] = Claim(1, ClaimCheckpointState.UnprepareStarted, "gpu-0", "gpu-1");
        data.Claims[TestClaims.Uid(2)] = Claim(2, ClaimCheckpointState.Prepared, "gpu-0");
        data.Devices = h.Backend.Devices.ToDictionary(d => d.Name, d => new CheckpointDeviceRecord { Uuid = d.Uuid, State = DurableDeviceState.Clean }, StringComparer.Ordinal);
        data.Devices["gpu-0"] = new() { Uuid = h.Backend.Devices[0].Uuid, State = DurableDeviceState.Prepared, Claim = TestClaims.Uid(2) };
        data.Devices["gpu-1"] = new() { Uuid = h.Backend.Devices[1].Uuid, State = DurableDeviceState.Releasing, Claim = TestClaims.Uid(1) };
        await File(h).WriteAsync(data, CancellationToken.None);

        await h.StartAsync();

        Assert.Equal(DeviceState.Prepared, h.Inventory.Get("gpu-0")!.State);
        Assert.Equal(TestClaims.Uid(2), h.Inventory.Get("gpu-0")!.ClaimUid);
        Assert.Equal(DeviceState.Dirty, h.Inventory.Get("gpu-1")!.State);
        Assert.Equal(["gpu-1"], h.Journal.Get(TestClaims.Uid(1))!.DirtyDevices);
        Assert.True(h.Inventory.Get("gpu-2")!.IsOffered);
    }

    [Fact]
    public async Task The_same_crash_written_by_an_older_build_does_not_wedge_start_up_either()
    {
        await using var h = PipelineHarness.Create(2);
        var data = new CheckpointData { BootId = "boot-1" };
        data.Claims[TestClaims.Uid(1)] = Claim(1, ClaimCheckpointState.UnprepareStarted, "gpu-0", "gpu-1");
        data.Claims[TestClaims.Uid(2)] = Claim(2, ClaimCheckpointState.Prepared, "gpu-0");
        await File(h).WriteAsync(data, CancellationToken.None);

        await h.StartAsync();

        Assert.Equal(TestClaims.Uid(2), h.Inventory.Get("gpu-0")!.ClaimUid);
        Assert.Equal(DeviceState.Dirty, h.Inventory.Get("gpu-1")!.State);
    }

    [Fact]
    public async Task The_retry_loop_reads_mig_mode_every_check_interval_not_on_every_claim_change()
    {
        // A read enumerates every GPU (NVML calls per GPU on a real node), and a claim's reserve, prepare and release
        // each wake the loop. The clock is fake and moves 1 ms per poll, far from the 10 s interval.
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { MigModeCheckInterval = TimeSpan.FromSeconds(10) }, time: time);
        await h.StartAsync(loops: true);

        // A loop pass is seen through its work: a dirty GPU scrubbed once its first backoff (20 ms here) passed.
        async Task DirtyGpu1ScrubbedByTheLoopAsync()
        {
            h.Inventory.Withdraw("gpu-1", WithdrawalReason.VramDirty, "test");
            await Poll.UntilAsync(
                () =>
                {
                    time.Advance(TimeSpan.FromMilliseconds(1));
                    return h.Inventory.Get("gpu-1")!.IsOffered;
                },
                "gpu-1 scrubbed by the retry loop");
        }

        await DirtyGpu1ScrubbedByTheLoopAsync(); // the loop has run: its first pass read MIG mode
        var reads = h.Backend.Enumerations;
        Assert.InRange(reads, 3, 4); // start-up, the loop's first read, the scrub's own check (and the publisher's node read, if any)
        for (var i = 0; i < 20; i++)
        {
            h.Inventory.Reserve("claim-a", ["gpu-0"]);
            h.Inventory.MarkPrepared("claim-a", ["gpu-0"]);
            h.Inventory.Release("claim-a", ["gpu-0"]);
        }

        await DirtyGpu1ScrubbedByTheLoopAsync();
        Assert.True(time.GetUtcNow() - DateTimeOffset.UnixEpoch < TimeSpan.FromSeconds(10), "the fake clock stayed inside one check interval");
        Assert.Equal(reads + 1, h.Backend.Enumerations); // only the whole-GPU scrub's own MIG check, just before it ran

        // The interval passes: the loop reads MIG mode again, and a GPU that entered it is withdrawn for it.
        h.Backend.MigMode["gpu-0"] = true;
        time.Advance(TimeSpan.FromSeconds(10));
        await Poll.UntilAsync(() => h.Inventory.Get("gpu-0")!.Withdrawals.ContainsKey(WithdrawalReason.MigModeEnabled), "gpu-0 withdrawn for MIG mode at the next check");
    }

    [Fact]
    public async Task A_gpu_in_mig_mode_is_withdrawn_with_its_own_reason_and_returns_only_after_a_verified_scrub()
    {
        await using var h = PipelineHarness.Create(2);
        h.Backend.MigMode["gpu-1"] = true;
        await h.StartAsync(loops: true);

        await Poll.UntilAsync(() => h.Api.Slices.Count == 1 && h.Api.Slices[0].Devices.Select(d => d.Name).SequenceEqual(["gpu-0"]), "gpu-1 withdrawn");
        Assert.True(h.Inventory.Get("gpu-1")!.Withdrawals.ContainsKey(WithdrawalReason.MigModeEnabled));
        Assert.Contains(h.Events.Events, e => e.Reason == "MigModeEnabled" && e.Message.Contains("gpu-1", StringComparison.Ordinal));
        Assert.Contains("securedra_mig_mode_withdrawals_total{change=\"withdrawn\"} 1", h.Metrics.Render(), StringComparison.Ordinal);
        Assert.Equal(0, h.Scrubber.Calls);

        // MIG mode toggled on a prepared GPU: its release scrub cannot verify, so it stays out.
        await PrepareAsync(h, 1, "gpu-0");
        h.Backend.MigMode["gpu-0"] = true;
        Assert.Null((await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);
        Assert.Equal(DeviceState.Dirty, h.Inventory.Get("gpu-0")!.State);
        Assert.True(h.Inventory.Get("gpu-0")!.Withdrawals.ContainsKey(WithdrawalReason.MigModeEnabled));
        Assert.Equal(0, h.Scrubber.Calls);

        h.Backend.MigMode["gpu-1"] = false;
        await h.ScrubRetry.RetryDueAsync(CancellationToken.None);
        await Poll.UntilAsync(() => h.Inventory.Get("gpu-1")!.IsOffered, "gpu-1 back after MIG off and a verified scrub");
        Assert.True(h.Scrubber.Calls >= 1);
    }

    [Fact]
    public async Task After_a_lost_checkpoint_the_kubelets_unprepare_of_a_claim_this_node_forgot_withdraws_its_gpus_until_scrubbed()
    {
        // A claim in use when the checkpoint was lost: its container wrote after the start-up scrub.
        await using var h = PipelineHarness.Create(2, provenClean: false);
        await h.StartAsync(loops: false);
        h.Api.PutClaim(TestClaims.Allocated(7, "gpu-1"));
        h.Backend.WriteCanary("gpu-1");

        var result = await h.Pipeline.UnprepareAsync([TestClaims.Ref(7)], CancellationToken.None);

        Assert.Null(result[TestClaims.Uid(7)].Error);
        Assert.Equal(DeviceState.Dirty, h.Inventory.Get("gpu-1")!.State);
        Assert.True(h.Inventory.Get("gpu-0")!.IsOffered);
        Assert.Equal(DurableDeviceState.Dirty, (await File(h).ReadAsync(CancellationToken.None))!.Devices!["gpu-1"].State);
    }

    [Theory]
    [InlineData("""{"claims":null}""", "field claims is null")]
    [InlineData("""{"claims":{"UID":null}}""", "it is null")]
    [InlineData("""{"claims":{"UID":{"state":"Prepared","devices":[null]}}}""", "devices is null")]
    [InlineData("""{"claims":{"UID":{"state":"Prepared","devices":null}}}""", "devices is null")]
    [InlineData("""{"claims":{"UID":{"state":"Prepared","devices":[{"name":"gpu-0"},{"name":"gpu-0"}]}}}""", "a device twice")]
    [InlineData("""{"claims":{"UID":{"state":"ScrubFailed","devices":[],"dirtyDevices":[null]}}}""", "dirtyDevices")]
    [InlineData("""{"claims":{"UID":{"state":"Prepared","devices":[],"prepared":[null]}}}""", "prepared holds")]
    [InlineData("""{"claims":{"UID":{"state":"Exploded","devices":[]}}}""", "not valid checkpoint JSON")]
    [InlineData("""{"claims":{"UID":{"state":7,"devices":[]}}}""", "is not a state")]
    [InlineData("""{"claims":{"UID":{"state":"Prepared","devices":"gpu-0"}}}""", "not valid checkpoint JSON")]
    [InlineData("""{"claims":[]}""", "not valid checkpoint JSON")]
    [InlineData("""{"claims":{},"claims":{}}""", "not valid checkpoint JSON")]
    [InlineData("""{"claims":{},"x":"\uD800"}""", "cannot be written back")]
    [InlineData("""{"claims":{"UID":{"namespace":"\uDC00","state":"Prepared","devices":[]}}}""", "is corrupt")]
    [InlineData("""{"claims":{},"devices":{"gpu-0":null}}""", "devices.gpu-0")]
    [InlineData("""{"claims":{},"devices":{"gpu-0":{"uuid":"x","state":"Scrubbing"}}}""", "not valid checkpoint JSON")]
    [InlineData("""{"claims":{},"devices":{"gpu-0":{"uuid":"x","state":"Prepared"}}}""", "without a valid claim")]
    [InlineData("""{"claims":{},"devices":{"gpu-0":{"uuid":"x","state":"Dirty"}}}""", "needs reason")]
    [InlineData("""{"claims":{},"devices":{"gpu-0":{"uuid":"x","state":"Clean","claim":"a"}}}""", "names a claim")]
    [InlineData("""{"claims":{},"devices":{"gpu-0":{"uuid":"x","state":9}}}""", "is not a state")]
    public async Task Malformed_checkpoints_of_every_shape_are_the_documented_corrupt_error(string json, string problem)
    {
        await using var h = PipelineHarness.Create(1);
        var payload = System.Text.Encoding.UTF8.GetBytes(json.Replace("UID", TestClaims.Uid(1), StringComparison.Ordinal));
        var header = System.Text.Encoding.ASCII.GetBytes($"SECUREDRA-CHECKPOINT 1 sha256={Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload))} bytes={payload.Length}\n");
        await System.IO.File.WriteAllBytesAsync(h.CheckpointPath, [.. header, .. payload]);

        var ex = await Assert.ThrowsAsync<CheckpointCorruptException>(() => h.StartAsync());

        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        Assert.Contains(h.CheckpointPath, ex.Message, StringComparison.Ordinal);
        Assert.Empty(h.Api.Slices);
    }

    private static CheckpointClaim Claim(int n, ClaimCheckpointState state, params string[] devices) => new()
    {
        Namespace = "tenant",
        Name = $"claim-{n}",
        State = state,
        Devices = [.. devices.Select(d => new CheckpointDevice { Name = d, Uuid = "GPU-" + d })],
        Prepared = state == ClaimCheckpointState.Prepared
            ? [.. devices.Select(d => new CheckpointPreparedDevice { RequestNames = ["gpu"], PoolName = TestClaims.Node, DeviceName = d, CdiDeviceIds = [$"k8s.{TestClaims.Driver}/claim={TestClaims.Uid(n)}-{d}"] })]
            : null,
    };

    private static async Task PrepareAsync(PipelineHarness h, int claim, params string[] devices)
    {
        h.Api.PutClaim(TestClaims.Allocated(claim, devices));
        var result = await h.Pipeline.PrepareAsync([TestClaims.Ref(claim)], CancellationToken.None);
        Assert.Null(result[TestClaims.Uid(claim)].Error);
    }
}
