using System.Text.Json.Nodes;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>
/// Static MIG through the real claim pipeline on simulated MIG: two tenants on two instances of one GPU; a release
/// scrubs exactly its instance (the neighbour's bytes survive), a failed instance scrub withdraws the instance and its
/// parent until the retry loop verifies, and a crash anywhere in the release makes the restart scrub again.
/// </summary>
public sealed class MigStaticPrepareTests : IAsyncLifetime
{
    private const long Memory = 8L * 1024 * 1024;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "securedra-mig-static-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly SimulatedGpuOptions _options;
    private readonly SimulatedMigBackend _sim;
    private readonly GpuDevice _parent = SimulatedDeviceCatalog.Device(0, Memory);
    private PipelineHarness? _h;

    public MigStaticPrepareTests()
    {
        Directory.CreateDirectory(_dir);
        _options = new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = Memory, VramDirectory = _dir, FaultFiles = true };
        using (var vram = new FileStream(VramPath, FileMode.Create))
        {
            vram.SetLength(Memory);
        }

        SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = true });
        _sim = new SimulatedMigBackend(_options);
        Scrubber = new InProcessMigInstanceScrubber(_sim);
    }

    private string VramPath => Path.Combine(_dir, "gpu-0.vram");

    private string MinorsPath => Path.Combine(_dir, "mig-minors");

    private InProcessMigInstanceScrubber Scrubber { get; }

    private PipelineHarness H => _h!;

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xUnit v2 never calls IAsyncDisposable on a test class.
    public async Task DisposeAsync()
    {
        if (_h is not null)
        {
            await _h.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Tenant A's instance X (2g at slices 2-3) and tenant B's neighbour Y (1g at slice 4), both prepared.</summary>
    private async Task<(MigInstance X, string XName, MigInstance Y, string YName)> TwoTenantsAsync(bool loops = false, bool slowRetry = false)
    {
        var x = await _sim.CreateComputeInstanceAsync(_parent, (await _sim.CreateGpuInstanceAsync(_parent, SimulatedMigProfiles.Profile2g, new MigPlacement(2, 2), CancellationToken.None)).GpuInstanceId, CancellationToken.None);
        var y = await _sim.CreateComputeInstanceAsync(_parent, (await _sim.CreateGpuInstanceAsync(_parent, SimulatedMigProfiles.Profile1g, new MigPlacement(4, 1), CancellationToken.None)).GpuInstanceId, CancellationToken.None);
        await File.WriteAllTextAsync(MinorsPath,
            $"config 1\nmonitor 2\ngpu0/gi{x.GpuInstanceId}/access 12\ngpu0/gi{x.GpuInstanceId}/ci0/access 13\ngpu0/gi{y.GpuInstanceId}/access 21\ngpu0/gi{y.GpuInstanceId}/ci0/access 22\n");

        _h = PipelineHarness.Create(1, slowRetry
            ? new ClaimPipelineOptions { MigMode = MigMode.Static, MigMinorsPath = MinorsPath, ScrubRetryInitial = TimeSpan.FromMilliseconds(500), ScrubRetryMax = TimeSpan.FromSeconds(1) }
            : new ClaimPipelineOptions { MigMode = MigMode.Static, MigMinorsPath = MinorsPath }, mig: _sim, migScrubber: Scrubber);
        _h.Backend.MigMode["gpu-0"] = true;
        await _h.StartAsync(loops);

        var names = _h.Inventory.Snapshot().Partitions.Single().Placements.Select(p => p.Name).ToList();
        var xName = names.Single(n => n.EndsWith($"-{SimulatedMigProfiles.Profile2g}-2", StringComparison.Ordinal));
        var yName = names.Single(n => n.EndsWith($"-{SimulatedMigProfiles.Profile1g}-4", StringComparison.Ordinal));
        _h.Api.PutClaim(TestClaims.Allocated(1, xName));
        _h.Api.PutClaim(TestClaims.Allocated(2, yName));
        var prepared = await _h.Pipeline.PrepareAsync([TestClaims.Ref(1), TestClaims.Ref(2)], CancellationToken.None);
        Assert.Null(prepared[TestClaims.Uid(1)].Error);
        Assert.Null(prepared[TestClaims.Uid(2)].Error);

        // The tenants write their canaries into their instances' memory.
        Fill(x.Placement, 0xA1);
        Fill(y.Placement, 0xB2);
        return (x, xName, y, yName);
    }

    [Fact]
    public async Task Prepare_hands_the_container_the_parent_node_and_exactly_its_instances_two_capability_nodes()
    {
        var (x, xName, _, _) = await TwoTenantsAsync();

        var spec = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(H.CdiRoot, H.Cdi.FileName(TestClaims.Uid(1)))))!;
        var device = spec["devices"]!.AsArray().Single()!;
        Assert.Equal(H.Cdi.DeviceName(TestClaims.Uid(1), xName), (string)device["name"]!);
        var nodes = device["containerEdits"]!["deviceNodes"]!.AsArray().Select(n => (string)n!["path"]!).ToList();
        Assert.Equal(["/dev/nvidia0", "/dev/nvidia-caps/nvidia-cap12", "/dev/nvidia-caps/nvidia-cap13", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"], nodes);
        Assert.Equal([CdiSpecWriterVoid], device["containerEdits"]!["env"]!.AsArray().Select(e => (string)e!));

        // Checkpointed as for whole GPUs: the claim with the MIG UUID, the slices held by it.
        var checkpoint = await File.ReadAllTextAsync(H.CheckpointPath);
        Assert.Contains(x.Uuid!, checkpoint, StringComparison.Ordinal);
        Assert.Equal(DeviceState.Prepared, H.Inventory.GetPlacement(xName)!.State);
        Assert.Equal(TestClaims.Uid(1), H.Inventory.GetPlacement(xName)!.ClaimUid);

        // A second claim on the same instance is refused.
        H.Api.PutClaim(TestClaims.Allocated(3, xName));
        var again = (await H.Pipeline.PrepareAsync([TestClaims.Ref(3)], CancellationToken.None))[TestClaims.Uid(3)];
        Assert.Contains("overlaps memory slices held by claim", again.Error, StringComparison.Ordinal);
    }

    private const string CdiSpecWriterVoid = "NVIDIA_VISIBLE_DEVICES=void";

    [Fact]
    public async Task Prepare_fails_closed_when_the_instance_is_gone_or_its_capability_nodes_are_not_listed()
    {
        var (x, _, y, yName) = await TwoTenantsAsync();

        // Y's capability entries vanish from the driver's list: a new claim on a re-created Y is refused, nothing reserved.
        await File.WriteAllTextAsync(MinorsPath, $"config 1\ngpu0/gi{x.GpuInstanceId}/access 12\ngpu0/gi{x.GpuInstanceId}/ci0/access 13\n");
        Assert.Null((await H.Pipeline.UnprepareAsync([TestClaims.Ref(2)], CancellationToken.None))[TestClaims.Uid(2)].Error);
        H.Api.PutClaim(TestClaims.Allocated(4, yName));
        var refused = (await H.Pipeline.PrepareAsync([TestClaims.Ref(4)], CancellationToken.None))[TestClaims.Uid(4)];
        Assert.Contains($"no entry gpu0/gi{y.GpuInstanceId}/access", refused.Error, StringComparison.Ordinal);
        Assert.True(H.Inventory.GetPlacement(yName)!.IsOffered, "the refused prepare reserved nothing");

        // An unparsable list is refused as well.
        await File.WriteAllTextAsync(MinorsPath, "gpu0/gi1/access -1\n");
        refused = (await H.Pipeline.PrepareAsync([TestClaims.Ref(4)], CancellationToken.None))[TestClaims.Uid(4)];
        Assert.Contains("MIG capability list could not be read", refused.Error, StringComparison.Ordinal);

        // The instance was destroyed behind the plugin's back: refused, never a CDI spec for memory nobody scrubbed.
        await _sim.DestroyComputeInstanceAsync(_parent, y.GpuInstanceId, 0, CancellationToken.None);
        await _sim.DestroyGpuInstanceAsync(_parent, y.GpuInstanceId, CancellationToken.None);
        refused = (await H.Pipeline.PrepareAsync([TestClaims.Ref(4)], CancellationToken.None))[TestClaims.Uid(4)];
        Assert.Contains("no MIG instance of profile", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(H.CdiFiles(), f => f.Contains(TestClaims.Uid(4), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Release_scrubs_exactly_its_instance_the_neighbours_canary_survives_and_the_slices_return_durably()
    {
        var (x, xName, y, yName) = await TwoTenantsAsync();

        var released = (await H.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];

        Assert.Null(released.Error);
        Assert.Equal([x.Uuid!], Scrubber.Scrubbed);
        AssertBytes(x.Placement, 0x00);
        AssertBytes(y.Placement, 0xB2);
        AssertBytes(new MigPlacement(0, 2), 0x00); // never written, never touched
        Assert.True(H.Inventory.GetPlacement(xName)!.IsOffered);
        Assert.Equal(DeviceState.Prepared, H.Inventory.GetPlacement(yName)!.State);
        Assert.DoesNotContain(H.CdiFiles(), f => f.Contains(TestClaims.Uid(1), StringComparison.Ordinal));

        // Durable: a restart offers X without scrubbing it again, and still holds Y for tenant B.
        await H.RestartAsync();
        Assert.True(H.Inventory.GetPlacement(xName)!.IsOffered);
        Assert.Equal(DeviceState.Prepared, H.Inventory.GetPlacement(yName)!.State);
        Assert.Equal(1, Scrubber.Calls);
    }

    [Fact]
    public async Task A_failed_instance_scrub_withdraws_the_instance_and_its_parent_until_the_retry_loop_verifies()
    {
        // A slow retry loop, so the state right after the release is observed before the loop's first retry.
        var (x, xName, y, yName) = await TwoTenantsAsync(loops: true, slowRetry: true);
        SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = true, MigFailVerifySlice = 3 });

        var released = (await H.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];

        Assert.Null(released.Error); // the kubelet is answered once the withdrawal is published
        var placement = H.Inventory.GetPlacement(xName)!;
        Assert.Equal(DeviceState.Dirty, placement.State);
        Assert.Contains(WithdrawalReason.ScrubFailed, placement.Withdrawals.Keys);
        Assert.Contains(WithdrawalReason.ScrubFailed, H.Inventory.Get("gpu-0")!.Withdrawals.Keys);
        Assert.DoesNotContain(H.Api.Slices.SelectMany(s => s.Devices), d => d.Name == xName || d.Name == "gpu-0");
        Assert.Equal(DeviceState.Prepared, H.Inventory.GetPlacement(yName)!.State);
        AssertBytes(y.Placement, 0xB2);

        // A new claim cannot take X while it is dirty.
        H.Api.PutClaim(TestClaims.Allocated(3, xName));
        Assert.Matches("withdrawn|being scrubbed|held by claim \\(a scrub\\)", (await H.Pipeline.PrepareAsync([TestClaims.Ref(3)], CancellationToken.None))[TestClaims.Uid(3)].Error);
        Assert.NotEqual(TestClaims.Uid(3), H.Inventory.GetPlacement(xName)!.ClaimUid);

        // The retry loop keeps trying; once the cell is no longer stuck the scrub verifies and X returns.
        await Poll.UntilAsync(() => Scrubber.Calls >= 2, "the retry loop scrubs the instance again", TimeSpan.FromMilliseconds(10000));
        SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = true });
        await Poll.UntilAsync(() => H.Inventory.GetPlacement(xName)!.IsOffered, "the instance is verified clean and offered again", TimeSpan.FromMilliseconds(10000));
        AssertBytes(x.Placement, 0x00);
        AssertBytes(y.Placement, 0xB2);
        Assert.All(Scrubber.Scrubbed, u => Assert.Equal(x.Uuid, u));
    }

    [Theory]
    [InlineData(CrashPoints.UnprepareAfterCheckpointStarted)]
    [InlineData(CrashPoints.UnprepareAfterScrub)]
    [InlineData(CrashPoints.UnprepareAfterCdiDelete)]
    public async Task A_crash_during_the_release_makes_the_restart_scrub_the_instance_again(string point)
    {
        var (x, xName, y, yName) = await TwoTenantsAsync(slowRetry: true);
        H.Crash.FailAt = point;
        Assert.NotNull((await H.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);
        var before = Scrubber.Calls;
        Fill(x.Placement, 0xA1); // whatever the scrub did, assume the worst: the tenant's bytes are back

        H.Crash.FailAt = null;
        await H.RestartAsync(loops: true);
        Assert.False(H.Inventory.GetPlacement(xName)!.IsOffered, "not offered before a verified scrub after the restart");
        await Poll.UntilAsync(() => H.Inventory.GetPlacement(xName)!.IsOffered, "the restart scrubs the instance and offers it", TimeSpan.FromMilliseconds(10000));

        Assert.True(Scrubber.Calls > before);
        AssertBytes(x.Placement, 0x00);
        AssertBytes(y.Placement, 0xB2);
        Assert.Equal(DeviceState.Prepared, H.Inventory.GetPlacement(yName)!.State);
        Assert.Null((await H.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);
    }

    private void Fill(MigPlacement placement, byte value) => MigVram.Fill(_sim, VramPath, placement, value);

    private void AssertBytes(MigPlacement placement, byte value) => MigVram.AssertBytes(_sim, VramPath, placement, value);
}
