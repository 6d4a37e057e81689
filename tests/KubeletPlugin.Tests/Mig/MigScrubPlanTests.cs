using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>
/// <see cref="MigScrubPlan"/> on the simulated H100-80GB's placements: the fewest scrubs over the dirty slices, then the
/// least memory scrubbed twice; excluded placements (failed, did not run) are never waited on; held memory is never
/// planned; a placement is left to the plan only while the plan covers every dirty slice of it.
/// </summary>
public class MigScrubPlanTests
{
    private static readonly GpuDevice Gpu = SimulatedDeviceCatalog.Device(0, 8L * 1024 * 1024);
    private static readonly IReadOnlyList<MigProfile> Profiles = SimulatedMigProfiles.For(SimulatedMigModel.H100_80GB);

    /// <summary>Slices as a string, one character each: C clean, D dirty, P held by a prepared claim.</summary>
    private static PartitionSnapshot Partition(string slices)
    {
        var states = slices.Select(c => c switch { 'C' => MemorySliceState.Clean, 'D' => MemorySliceState.Dirty, _ => MemorySliceState.Prepared }).ToArray();
        var sliceSnapshots = states.Select((s, i) => new MemorySliceSnapshot(i, s, s == MemorySliceState.Prepared ? "claim" : null, null, null)).ToList();
        var placements = Profiles.SelectMany(p => p.Placements.Select(at =>
        {
            var covered = states.Skip(at.Start).Take(at.Size).ToList();
            var state = covered.Any(s => s == MemorySliceState.Prepared) ? DeviceState.Prepared : covered.Any(s => s == MemorySliceState.Dirty) ? DeviceState.Dirty : DeviceState.Clean;
            return new PlacementStateSnapshot(MigDeviceNames.Placement(Gpu.Minor, p, at), Gpu, p, at, state, null, new Dictionary<WithdrawalReason, string>());
        })).ToList();
        return new PartitionSnapshot(Gpu, Profiles, sliceSnapshots, placements);
    }

    private static IReadOnlyList<string> Spans(PartitionSnapshot partition, IReadOnlySet<string> plan) =>
        [.. partition.Placements.Where(p => plan.Contains(p.Name)).Select(p => $"{p.Placement.Start}+{p.Placement.Size}").Order(StringComparer.Ordinal)];

    private static IReadOnlySet<string> None => new HashSet<string>(StringComparer.Ordinal);

    [Theory]
    [InlineData("DDDDDDDD", "0+8")]
    [InlineData("CCCCDDDD", "4+4")]
    [InlineData("DDDDCDDD", "0+8")]
    [InlineData("CCCCCCCC", "")]
    [InlineData("CDCCCCCC", "1+1")]
    [InlineData("PPCCDDDD", "4+4")] // the held slices are never planned over
    [InlineData("PPDDCCCD", "2+2,6+2")] // slice 7 through 6+2 (one proven slice again), not 4+4 (three) nor 0+8 (held memory)
    public void The_plan_covers_every_dirty_slice_with_the_fewest_scrubs_then_the_least_memory_scrubbed_twice(string slices, string expected)
    {
        var partition = Partition(slices);

        var plan = MigScrubPlan.Choose(partition, None);

        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries), Spans(partition, plan));
    }

    [Fact]
    public void An_excluded_placement_is_never_waited_on_the_plan_moves_on_and_memory_no_candidate_reaches_runs_on_its_own()
    {
        var partition = Partition("DDDDCDDD");
        var byName = partition.Placements.ToDictionary(p => p.Name);
        var whole = partition.Placements.Single(p => p.Placement.Size == 8).Name;

        // The full-size scrub failed: the plan proves the same memory through others, and the full size waits for them.
        var plan = MigScrubPlan.Choose(partition, new HashSet<string>(StringComparer.Ordinal) { whole });
        Assert.Equal(["0+4", "4+4"], Spans(partition, plan));
        Assert.True(MigScrubPlan.LeftToPlan(byName[whole], partition, plan));

        // Every placement over slice 1 failed or did not run: nothing planned reaches slice 1, so none of them waits.
        var overSlice1 = partition.Placements.Where(p => p.Placement.Start <= 1 && 1 < p.Placement.Start + p.Placement.Size).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        plan = MigScrubPlan.Choose(partition, overSlice1);
        Assert.DoesNotContain(plan, overSlice1.Contains);
        Assert.All(overSlice1, name => Assert.False(MigScrubPlan.LeftToPlan(byName[name], partition, plan), $"{name} waits for a plan that cannot reach slice 1"));
    }

    [Fact]
    public void A_placement_is_left_to_the_plan_only_while_the_plan_covers_all_of_its_dirty_slices()
    {
        var partition = Partition("CCCCDDDD");
        var plan = MigScrubPlan.Choose(partition, None);

        var smaller = partition.Placements.Where(p => p.State == DeviceState.Dirty && !plan.Contains(p.Name)).ToList();
        Assert.NotEmpty(smaller);
        Assert.All(smaller, p => Assert.True(MigScrubPlan.LeftToPlan(p, partition, plan), $"{p.Name} should wait for the planned 4+4"));

        // Nothing planned (everything excluded): nothing is left waiting.
        var nothing = MigScrubPlan.Choose(partition, partition.Placements.Select(p => p.Name).ToHashSet(StringComparer.Ordinal));
        Assert.Empty(nothing);
        Assert.All(partition.Placements, p => Assert.False(MigScrubPlan.LeftToPlan(p, partition, nothing)));
    }
}
