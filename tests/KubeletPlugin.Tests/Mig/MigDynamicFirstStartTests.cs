using System.Globalization;
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
/// Dynamic MIG, a first start (no checkpoint) on a GPU holding a previous tenant's bytes everywhere and, maybe, an
/// administrator's leftover instances: each leftover is scrubbed and destroyed at start-up, then the retry loop proves
/// the remaining dirty slices through temporary instances with the fewest scrubs, never scrubbing proven memory again
/// when it need not (<see cref="MigScrubPlan"/>), and never offering a placement before its memory is zero.
/// Before the plan, the placements ran as their jittered backoff came due: after a leftover's scrub, two to four
/// smaller temporary instances and then the full-size one over all of them again.
/// </summary>
public sealed class MigDynamicFirstStartTests : IAsyncLifetime
{
    private const long Memory = 8L * 1024 * 1024;
    private static readonly MigPlacement All = new(0, 8);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "securedra-mig-first-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly SimulatedMigBackend _sim;
    private readonly GpuDevice _parent = SimulatedDeviceCatalog.Device(0, Memory);
    private readonly WatchingScrubber _scrubber;
    private PipelineHarness? _h;

    public MigDynamicFirstStartTests()
    {
        _sim = MigVram.CreateGpu(_dir, Memory);
        _scrubber = new WatchingScrubber(new InProcessMigInstanceScrubber(_sim), this);
    }

    private string VramPath => Path.Combine(_dir, "gpu-0.vram");

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

    private void Faults(SimulatedFaults faults) => SimulatedFaultFile.Write(_dir, "gpu-0", faults);

    /// <summary>The previous tenant's bytes in all memory, the leftover instances ("start+size,…"), then the first start with the loops.</summary>
    private async Task FirstStartAsync(string leftovers, TimeSpan? scrubRetryInitial = null)
    {
        MigVram.Fill(_sim, VramPath, All, 0xC5);
        var profiles = await _sim.GetProfilesAsync(_parent, CancellationToken.None);
        foreach (var at in Placements(leftovers))
        {
            var profile = profiles.First(p => p.Placements.Contains(at));
            var gi = await _sim.CreateGpuInstanceAsync(_parent, profile.Id, at, CancellationToken.None);
            await _sim.CreateComputeInstanceAsync(_parent, gi.GpuInstanceId, CancellationToken.None);
        }

        var options = new ClaimPipelineOptions { MigMode = MigMode.Dynamic, MigMinorsPath = SimulatedMigBackend.MinorsPath(_dir) };
        _h = PipelineHarness.Create(1, scrubRetryInitial is { } initial ? options with { ScrubRetryInitial = initial } : options, provenClean: false, mig: _sim, migScrubber: _scrubber);
        _h.Backend.MigMode["gpu-0"] = true;
        await _h.StartAsync(loops: true);
    }

    private static IEnumerable<MigPlacement> Placements(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('+')).Select(p => new MigPlacement(int.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture)));

    private IReadOnlyList<PlacementStateSnapshot> PlacementStates() => H.Inventory.Snapshot().Partitions.Single().Placements;

    private async Task UntilAllOfferedAsync() =>
        await Poll.UntilAsync(async () => PlacementStates().All(p => p.IsOffered) && (await _sim.GetInstancesAsync(_parent, CancellationToken.None)).Count == 0,
            "every placement proven and offered, no instance left", TimeSpan.FromSeconds(30));

    [Theory]
    [InlineData("", "0+8")] // nothing exists: the full-size instance proves all 8 slices at once
    [InlineData("4+1", "0+8")] // 7 slices left: one scrub beats two or more (one proven slice scrubbed again)
    [InlineData("0+4", "4+4")] // slices 4-7 left: one scrub over exactly them, not the full size again
    [InlineData("2+2,6+1", "0+8")] // five slices in three runs: the full size is the only single scrub
    public async Task A_first_start_proves_the_dirty_slices_with_the_fewest_scrubs_and_scrubs_proven_memory_again_only_when_that_saves_a_scrub(string leftovers, string retried)
    {
        await FirstStartAsync(leftovers);

        await UntilAllOfferedAsync();

        Assert.Equal(Placements(leftovers).Select(p => (p, ScrubTrigger.Startup)), _scrubber.Scrubs.Where(s => s.Trigger == ScrubTrigger.Startup));
        Assert.Equal(Placements(retried).Select(p => (p, ScrubTrigger.Retry)), _scrubber.Scrubs.Where(s => s.Trigger == ScrubTrigger.Retry));
        MigVram.AssertBytes(_sim, VramPath, All, 0x00);
        Assert.Empty(_scrubber.OfferedUnproven);
    }

    [Fact]
    public async Task A_first_start_proves_every_slice_in_a_bounded_number_of_retry_loop_passes()
    {
        // All 8 slices dirty, the plan is the full size, and the other 18 placements' first backoffs (jittered over
        // half a second here) come due around it. A placement that is due and not scrubbed (left to the plan, cleaned
        // by an overlapping scrub, unable to run) must not keep a due time in the past: the loop's next wait would be
        // zero and it would run pass after pass, two snapshots and the plan's search each, until something else came
        // due. The passes are counted by securedra_scrub_retry_passes_total, which shows an operator the same.
        await FirstStartAsync("", scrubRetryInitial: TimeSpan.FromSeconds(1));
        await UntilAllOfferedAsync();

        var passes = H.Metrics.Counter(ScrubRetryService.PassesMetric, "").Value();
        Assert.InRange(passes, 1, 200);
    }

    [Fact]
    public async Task A_stuck_cell_under_the_planned_scrub_keeps_its_memory_withdrawn_and_the_plan_proves_it_once_the_cell_recovers()
    {
        // The plan's full-size scrub cannot verify: slice 1 holds a stuck cell. Its temporary instance is kept (never
        // destroyed unscrubbed) and scrubbed again on its own backoff.
        Faults(new SimulatedFaults { MigEnabled = true, MigFailVerifySlice = 1 });
        await FirstStartAsync("4+1");

        await Poll.UntilAsync(() => _scrubber.Count((All, ScrubTrigger.Retry)) >= 2, "the full-size scrub failed and was retried", TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(PlacementStates(), p => p.IsOffered && Covers(p.Placement, 1));
        Assert.Empty(_scrubber.OfferedUnproven);

        // The cell recovers: the retry verifies, destroys, and every placement returns.
        Faults(new SimulatedFaults { MigEnabled = true });
        await UntilAllOfferedAsync();
        MigVram.AssertBytes(_sim, VramPath, All, 0x00);
        Assert.Empty(_scrubber.OfferedUnproven);
    }

    private static bool Covers(MigPlacement placement, int slice) => placement.Start <= slice && slice < placement.Start + placement.Size;

    /// <summary>Records each scrub, and before each one checks that every offered placement's memory is already zero.</summary>
    private sealed class WatchingScrubber(IMigInstanceScrubber inner, MigDynamicFirstStartTests test) : IMigInstanceScrubber
    {
        public List<(MigPlacement Placement, ScrubTrigger Trigger)> Scrubs { get; } = [];

        public List<string> OfferedUnproven { get; } = [];

        public int Count((MigPlacement Placement, ScrubTrigger Trigger) scrub)
        {
            lock (Scrubs)
            {
                return Scrubs.Count(s => s == scrub);
            }
        }

        public Task<MigScrubResult> ScrubAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, CancellationToken cancellationToken)
        {
            lock (Scrubs)
            {
                Scrubs.Add((instance.Placement, trigger));
                var bytes = File.ReadAllBytes(test.VramPath);
                foreach (var offered in test.PlacementStates().Where(p => p.IsOffered))
                {
                    var (offset, length) = test._sim.ByteRange(offered.Placement);
                    if (bytes.AsSpan((int)offset, (int)length).IndexOfAnyExcept((byte)0) >= 0)
                    {
                        OfferedUnproven.Add(offered.Name);
                    }
                }
            }

            return inner.ScrubAsync(parent, instance, trigger, cancellationToken);
        }
    }
}
