using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Scrubbing;
using SecureDra.TestKit;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>
/// Static MIG on a first install (no checkpoint) of a GPU that is already in MIG mode, through the real pipeline on
/// simulated MIG: the administrator's two instances still hold a previous tenant's canary. The whole-GPU scrub cannot
/// verify under MIG, so each instance is proven through its own scrub before it is offered; slices no instance covers
/// stay withdrawn (static mode never creates an instance).
/// </summary>
public sealed class MigStaticFirstStartTests : IAsyncLifetime
{
    private const long Memory = 8L * 1024 * 1024;
    private static readonly MigPlacement XAt = new(2, 2);
    private static readonly MigPlacement YAt = new(4, 1);
    private static readonly byte[] CanaryX = "PREVIOUS-TENANT-X-CANARY"u8.ToArray();
    private static readonly byte[] CanaryY = "PREVIOUS-TENANT-Y-CANARY"u8.ToArray();
    private static readonly byte[] CanaryFree = "PREVIOUS-TENANT-FREE-CANARY"u8.ToArray();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "securedra-mig-first-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly SimulatedGpuOptions _options;
    private readonly SimulatedMigBackend _sim;
    private readonly GpuDevice _parent = SimulatedDeviceCatalog.Device(0, Memory);
    private readonly ObservingScrubber _scrubber;
    private PipelineHarness? _h;
    private (byte[]? Checkpoint, bool Reached) _atCrash;

    public MigStaticFirstStartTests()
    {
        Directory.CreateDirectory(_dir);
        _options = new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = Memory, VramDirectory = _dir, FaultFiles = true };
        using (var vram = new FileStream(VramPath, FileMode.Create))
        {
            vram.SetLength(Memory);
        }

        SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = true });
        _sim = new SimulatedMigBackend(_options);
        _scrubber = new ObservingScrubber(new InProcessMigInstanceScrubber(_sim), () => _h);
    }

    private string VramPath => Path.Combine(_dir, "gpu-0.vram");

    private string MinorsPath => Path.Combine(_dir, "mig-minors");

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

    /// <summary>
    /// The administrator's layout before the plugin ever ran here: X (2g at slices 2-3) and Y (1g at slice 4), a
    /// previous tenant's canary in each and in the uncovered slices 0 and 7; then the first start (no checkpoint).
    /// </summary>
    private async Task<(MigInstance X, string XName, MigInstance Y, string YName)> FirstStartAsync(bool loops = false, int? stuckSlice = null, string? crashAt = null)
    {
        var x = await _sim.CreateComputeInstanceAsync(_parent, (await _sim.CreateGpuInstanceAsync(_parent, SimulatedMigProfiles.Profile2g, XAt, CancellationToken.None)).GpuInstanceId, CancellationToken.None);
        var y = await _sim.CreateComputeInstanceAsync(_parent, (await _sim.CreateGpuInstanceAsync(_parent, SimulatedMigProfiles.Profile1g, YAt, CancellationToken.None)).GpuInstanceId, CancellationToken.None);
        await File.WriteAllTextAsync(MinorsPath,
            $"config 1\nmonitor 2\ngpu0/gi{x.GpuInstanceId}/access 12\ngpu0/gi{x.GpuInstanceId}/ci0/access 13\ngpu0/gi{y.GpuInstanceId}/access 21\ngpu0/gi{y.GpuInstanceId}/ci0/access 22\n");
        PlantCanary(XAt, CanaryX);
        PlantCanary(YAt, CanaryY);
        PlantCanary(new MigPlacement(0, 1), CanaryFree);
        PlantCanary(new MigPlacement(7, 1), CanaryFree);
        if (stuckSlice is { } slice)
        {
            SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = true, MigFailVerifySlice = slice });
        }

        _h = PipelineHarness.Create(1,
            new ClaimPipelineOptions { MigMode = MigMode.Static, MigMinorsPath = MinorsPath, ScrubRetryInitial = TimeSpan.FromMilliseconds(300), ScrubRetryMax = TimeSpan.FromMilliseconds(600) },
            provenClean: false, mig: _sim, migScrubber: _scrubber);
        _h.Backend.MigMode["gpu-0"] = true;
        if (crashAt is not null)
        {
            _h.Crash.FailAt = crashAt;
            // The process "dies" at the first crash: the disk as it was then is what the restart finds.
            _h.Crash.OnFail = _ =>
            {
                if (!_atCrash.Reached)
                {
                    _atCrash = (File.Exists(H.CheckpointPath) ? File.ReadAllBytes(H.CheckpointPath) : null, true);
                }
            };
        }

        Assert.False(File.Exists(_h.CheckpointPath), "a first install has no checkpoint");
        await _h.StartAsync(loops);

        var names = _h.Inventory.Snapshot().Partitions.Single().Placements.Select(p => p.Name).ToList();
        return (x, names.Single(n => n.EndsWith($"-{SimulatedMigProfiles.Profile2g}-2", StringComparison.Ordinal)),
            y, names.Single(n => n.EndsWith($"-{SimulatedMigProfiles.Profile1g}-4", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_first_start_scrubs_each_existing_instance_before_it_offers_it_and_leaves_uncovered_slices_withdrawn()
    {
        var (x, xName, y, yName) = await FirstStartAsync(loops: true);

        // Start-up proved both instances, one scrub each, through the per-instance scrub (never the whole GPU).
        Assert.Equal(new[] { x.Uuid!, y.Uuid! }.Order(StringComparer.Ordinal), _scrubber.Scrubbed.Order(StringComparer.Ordinal));
        Assert.Equal(1, _scrubber.Scrubbed.Count(u => u == x.Uuid));
        Assert.Equal(1, _scrubber.Scrubbed.Count(u => u == y.Uuid));
        Assert.All(_scrubber.Triggers, t => Assert.Equal(ScrubTrigger.Startup, t));
        Assert.Equal(0, H.Scrubber.Calls);

        // Nothing was offered before its own verified scrub: at the first scrub nothing was, at the second only the first.
        Assert.Empty(_scrubber.OfferedAtEachScrub[0]);
        Assert.Equal([_scrubber.NameOf(xName, yName, 0)], _scrubber.OfferedAtEachScrub[1]);

        // The canaries are gone from exactly the instances; the uncovered slices are untouched and withdrawn.
        Assert.False(Contains(XAt, CanaryX));
        Assert.False(Contains(YAt, CanaryY));
        AssertBytes(XAt, 0x00);
        AssertBytes(YAt, 0x00);
        Assert.True(Contains(new MigPlacement(0, 1), CanaryFree), "static mode never creates an instance to reach uncovered memory");
        Assert.True(Contains(new MigPlacement(7, 1), CanaryFree));
        var slices = H.Inventory.Snapshot().Partitions.Single().Slices;
        Assert.All(new[] { 0, 1, 5, 6, 7 }, i => Assert.Equal(MemorySliceState.Dirty, slices[i].State));
        Assert.All(new[] { 2, 3, 4 }, i => Assert.Equal(MemorySliceState.Clean, slices[i].State));

        // Offered: in the inventory and in the published slice; the whole GPU stays out.
        Assert.True(H.Inventory.GetPlacement(xName)!.IsOffered);
        Assert.True(H.Inventory.GetPlacement(yName)!.IsOffered);
        Assert.NotEmpty(H.Inventory.Get("gpu-0")!.Withdrawals);
        await Poll.UntilAsync(() => H.Api.Slices.SelectMany(sl => sl.Devices).Count(d => d.Name == xName || d.Name == yName) == 2, "both instances published", TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(H.Api.Slices.SelectMany(sl => sl.Devices), d => d.Name == "gpu-0");

        // A tenant can take one.
        H.Api.PutClaim(TestClaims.Allocated(1, xName));
        Assert.Null((await H.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);
    }

    [Fact]
    public async Task After_a_successful_first_start_a_restart_offers_the_instances_from_the_checkpoint_without_scrubbing_again()
    {
        var (_, xName, _, yName) = await FirstStartAsync();
        Assert.Equal(2, _scrubber.Calls);

        await H.RestartAsync();

        Assert.Equal(2, _scrubber.Calls);
        Assert.Equal(0, H.Scrubber.Calls);
        Assert.True(H.Inventory.GetPlacement(xName)!.IsOffered);
        Assert.True(H.Inventory.GetPlacement(yName)!.IsOffered);
        var slices = H.Inventory.Snapshot().Partitions.Single().Slices;
        Assert.All(new[] { 0, 1, 5, 6, 7 }, i => Assert.Equal(MemorySliceState.Dirty, slices[i].State));
    }

    [Fact]
    public async Task A_stuck_cell_in_one_instance_keeps_it_withdrawn_the_other_is_offered_and_scrubbed_once_the_retry_loop_brings_it_back()
    {
        var (x, xName, y, yName) = await FirstStartAsync(loops: true, stuckSlice: 4);

        Assert.True(H.Inventory.GetPlacement(xName)!.IsOffered);
        var stuck = H.Inventory.GetPlacement(yName)!;
        Assert.False(stuck.IsOffered);
        Assert.Equal(DeviceState.Dirty, stuck.State);
        Assert.Contains(WithdrawalReason.ScrubFailed, stuck.Withdrawals.Keys);
        AssertBytes(XAt, 0x00);
        Assert.DoesNotContain(H.Api.Slices.SelectMany(sl => sl.Devices), d => d.Name == yName);

        // The retry loop keeps trying Y (trigger Retry); it never offers it while the cell is stuck.
        await Poll.UntilAsync(() => _scrubber.Scrubbed.Count(u => u == y.Uuid) >= 2, "the retry loop scrubs the stuck instance again", TimeSpan.FromSeconds(10));
        Assert.False(H.Inventory.GetPlacement(yName)!.IsOffered);
        Assert.Contains(ScrubTrigger.Retry, _scrubber.Triggers);

        // The cell recovers: Y is verified and offered; X was scrubbed exactly once through all of it.
        SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = true });
        await Poll.UntilAsync(() => H.Inventory.GetPlacement(yName)!.IsOffered, "the instance is verified clean and offered", TimeSpan.FromSeconds(10));
        AssertBytes(YAt, 0x00);
        Assert.Equal(1, _scrubber.Scrubbed.Count(u => u == x.Uuid));
        Assert.True(H.Inventory.GetPlacement(xName)!.IsOffered);
    }

    [Fact]
    public async Task A_crash_after_an_instance_scrub_verified_but_before_it_was_recorded_is_never_offered_before_a_new_verified_scrub()
    {
        var (x, xName, _, yName) = await FirstStartAsync(crashAt: CrashPoints.MigAfterInstanceScrub);
        Assert.True(_atCrash.Reached, "the crash point was not reached");
        var calls = _scrubber.Calls;

        // The disk as it was at the crash; assume the worst about the memory: the previous tenant's bytes are back.
        var checkpoint = _atCrash.Checkpoint;
        Assert.NotNull(checkpoint);
        PlantCanary(XAt, CanaryX);
        PlantCanary(YAt, CanaryY);
        SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = true, MigFailVerifySlice = 4 });
        H.Crash.FailAt = null;
        H.Crash.OnFail = null;
        await H.RestartAsync(loops: true, whileStopped: () => File.WriteAllBytes(H.CheckpointPath, checkpoint!));

        // X returns only through a new verified scrub; Y (stuck cell) never returns.
        await Poll.UntilAsync(() => H.Inventory.GetPlacement(xName)!.IsOffered, "X scrubbed again and offered", TimeSpan.FromSeconds(10));
        Assert.True(_scrubber.Scrubbed.Skip(calls).Contains(x.Uuid!), "a new scrub of X ran after the restart");
        Assert.False(Contains(XAt, CanaryX));
        AssertBytes(XAt, 0x00);
        Assert.All(_scrubber.OfferedAtEachScrub.Skip(calls), offered => Assert.DoesNotContain(yName, offered));
        Assert.False(H.Inventory.GetPlacement(yName)!.IsOffered);
        Assert.DoesNotContain(H.Api.Slices.SelectMany(sl => sl.Devices), d => d.Name == yName);
    }

    [Fact]
    public async Task A_partitioned_gpu_that_loses_its_proof_while_running_has_each_instance_proven_again_by_the_retry_loop()
    {
        var (x, xName, y, yName) = await FirstStartAsync(loops: true);
        var before = _scrubber.Calls;

        // Bytes of unknown origin appear and the GPU's memory is marked dirty while it runs (no claim holds it). The
        // bytes go in first: the retry loop's first try is jittered and may start at once.
        PlantCanary(XAt, CanaryX);
        PlantCanary(YAt, CanaryY);
        H.Inventory.Withdraw("gpu-0", WithdrawalReason.VramDirty, "test: the GPU lost its proof");
        Assert.False(H.Inventory.GetPlacement(xName)!.IsOffered);
        Assert.False(H.Inventory.GetPlacement(yName)!.IsOffered);

        await Poll.UntilAsync(() => H.Inventory.GetPlacement(xName)!.IsOffered && H.Inventory.GetPlacement(yName)!.IsOffered, "both instances proven again", TimeSpan.FromSeconds(10));
        Assert.Equal([ScrubTrigger.Retry, ScrubTrigger.Retry], _scrubber.Triggers.Skip(before));
        Assert.Equal(new[] { x.Uuid!, y.Uuid! }.Order(StringComparer.Ordinal), _scrubber.Scrubbed.Skip(before).Order(StringComparer.Ordinal));
        AssertBytes(XAt, 0x00);
        AssertBytes(YAt, 0x00);
        Assert.Empty(_scrubber.OfferedAtEachScrub[before]); // nothing was offered when the first of them was scrubbed again
    }

    [Fact]
    public async Task A_first_start_proves_the_instances_of_two_gpus_in_parallel_and_each_gpus_own()
    {
        // A second simulated GPU in MIG mode beside this fixture's gpu-0, one instance on each, both holding canaries.
        var options = _options with { DeviceCount = 2 };
        var sim = new SimulatedMigBackend(options);
        var second = SimulatedDeviceCatalog.Device(1, Memory);
        using (var vram = new FileStream(Path.Combine(_dir, "gpu-1.vram"), FileMode.Create))
        {
            vram.SetLength(Memory);
        }

        SimulatedFaultFile.Write(_dir, "gpu-1", new SimulatedFaults { MigEnabled = true });
        var a = await sim.CreateComputeInstanceAsync(_parent, (await sim.CreateGpuInstanceAsync(_parent, SimulatedMigProfiles.Profile2g, XAt, CancellationToken.None)).GpuInstanceId, CancellationToken.None);
        var b = await sim.CreateComputeInstanceAsync(second, (await sim.CreateGpuInstanceAsync(second, SimulatedMigProfiles.Profile2g, XAt, CancellationToken.None)).GpuInstanceId, CancellationToken.None);
        PlantCanary(XAt, CanaryX);
        var (offset, length) = sim.ByteRange(XAt);
        TenantCanary.Write(Path.Combine(_dir, "gpu-1.vram"), Enumerable.Range(0, (int)(length / CanaryY.Length)).Select(i => offset + ((long)i * CanaryY.Length)), CanaryY);

        // Each scrub waits (bounded) until the other GPU's has started: only a parallel start-up gets both in at once.
        var together = new RendezvousScrubber(new InProcessMigInstanceScrubber(sim), 2);
        _h = PipelineHarness.Create(2, new ClaimPipelineOptions { MigMode = MigMode.Static, MigMinorsPath = MinorsPath }, provenClean: false, mig: sim, migScrubber: together);
        _h.Backend.MigMode["gpu-0"] = true;
        _h.Backend.MigMode["gpu-1"] = true;
        await _h.StartAsync();

        Assert.Equal(2, together.MaxConcurrent);
        Assert.Equal(new[] { a.Uuid!, b.Uuid! }.Order(StringComparer.Ordinal), together.Scrubbed.Order(StringComparer.Ordinal));
        var partitions = H.Inventory.Snapshot().Partitions;
        Assert.Equal(2, partitions.Count);
        Assert.All(partitions, p => Assert.True(Assert.Single(p.Placements).IsOffered, $"{p.Gpu.Name}'s instance is proven and offered"));
        AssertBytes(XAt, 0x00);
        Assert.True(File.ReadAllBytes(Path.Combine(_dir, "gpu-1.vram")).AsSpan((int)offset, (int)length).IndexOfAnyExcept((byte)0) < 0, "gpu-1's instance is zeroed");
    }

    /// <summary>Holds each scrub until <paramref name="parties"/> are in (at most 5 s), and records how many ran at once.</summary>
    private sealed class RendezvousScrubber(InProcessMigInstanceScrubber inner, int parties) : IMigInstanceScrubber
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _inside;
        private int _max;

        public int MaxConcurrent => Volatile.Read(ref _max);

        public List<string> Scrubbed => inner.Scrubbed;

        public async Task<MigScrubResult> ScrubAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref _inside);
            InterlockedMax(ref _max, now);
            if (now >= parties)
            {
                _all.TrySetResult();
            }

            try
            {
                await Task.WhenAny(_all.Task, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken));
                return await inner.ScrubAsync(parent, instance, trigger, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inside);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }

    private void PlantCanary(MigPlacement placement, byte[] canary)
    {
        var (offset, length) = _sim.ByteRange(placement);
        TenantCanary.Write(VramPath, Enumerable.Range(0, (int)(length / canary.Length)).Select(i => offset + ((long)i * canary.Length)), canary);
    }

    private bool Contains(MigPlacement placement, byte[] canary)
    {
        var (offset, length) = _sim.ByteRange(placement);
        return File.ReadAllBytes(VramPath).AsSpan((int)offset, (int)length).IndexOf(canary) >= 0;
    }

    private void AssertBytes(MigPlacement placement, byte value) => MigVram.AssertBytes(_sim, VramPath, placement, value);

    /// <summary>Records, at the start of every instance scrub, its trigger and which placements the inventory offers at that moment.</summary>
    private sealed class ObservingScrubber(InProcessMigInstanceScrubber inner, Func<PipelineHarness?> harness) : IMigInstanceScrubber
    {
        private readonly List<string> _order = [];

        public List<string> Scrubbed => inner.Scrubbed;

        public int Calls => inner.Calls;

        public List<ScrubTrigger> Triggers { get; } = [];

        public List<IReadOnlyList<string>> OfferedAtEachScrub { get; } = [];

        /// <summary>The placement scrubbed <paramref name="index"/>-th (by MIG UUID order of X then Y as passed).</summary>
        public string NameOf(string xName, string yName, int index) => _order[index] == "x" ? xName : yName;

        public Task<MigScrubResult> ScrubAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, CancellationToken cancellationToken)
        {
            lock (Triggers)
            {
                Triggers.Add(trigger);
                _order.Add(instance.Placement == XAt ? "x" : "y");
                var partitions = harness()?.Inventory.Snapshot().Partitions ?? [];
                OfferedAtEachScrub.Add([.. partitions.SelectMany(p => p.Placements).Where(p => p.IsOffered).Select(p => p.Name)]);
            }

            return inner.ScrubAsync(parent, instance, trigger, cancellationToken);
        }
    }
}
