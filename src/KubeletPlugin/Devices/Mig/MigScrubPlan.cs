using System.Numerics;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// Which dirty placements of one partitioned GPU a scrub retry pass scrubs, so that each dirty memory slice is proven by
/// as few scrubs as possible and, among those, as little memory as possible is scrubbed twice (slices already proven in
/// this start, or covered by another scrub of the plan). In dynamic mode every scrub of a placement without an instance
/// creates and destroys a temporary instance and starts a scrub worker: that fixed cost dominates, so fewer scrubs come
/// first. Before, a pass took the placements as their backoff came due, so after an instance's own scrub had proven some
/// slices, smaller placements were scrubbed one by one and then the full-size one over all of them again.
/// <para>
/// Only an order and a choice: a slice still becomes Clean only through a verified scrub of a placement covering it
/// (<see cref="DeviceScrub"/>). A placement left out is skipped only while every dirty slice it covers is covered by a
/// planned one; the caller excludes placements whose scrub failed or was skipped, so the plan moves on to others.
/// </para>
/// </summary>
public static class MigScrubPlan
{
    /// <summary>The placements to scrub now; empty when nothing is dirty or nothing can be planned.</summary>
    /// <param name="excluded">Placements not to plan (their last scrub failed or did not run): they are retried on their own backoff.</param>
    public static IReadOnlySet<string> Choose(PartitionSnapshot partition, IReadOnlySet<string> excluded)
    {
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(excluded);
        var clean = Mask(partition.Slices.Where(s => s.State == MemorySliceState.Clean).Select(s => s.Index));
        var dirty = Mask(partition.Slices.Where(s => s.State == MemorySliceState.Dirty).Select(s => s.Index));

        // Candidates: dirty placements over Clean and Dirty slices only (one over held or scrubbing memory cannot run now).
        var candidates = partition.Placements
            .Where(p => p.State == DeviceState.Dirty && !excluded.Contains(p.Name))
            .Select(p => (p.Name, Mask: Mask(Enumerable.Range(p.Placement.Start, p.Placement.Size))))
            .Where(c => (c.Mask & ~(clean | dirty)) == 0 && (c.Mask & dirty) != 0)
            .OrderByDescending(c => BitOperations.PopCount((uint)c.Mask))
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .ToList();
        var target = candidates.Aggregate(0, (m, c) => m | c.Mask) & dirty;
        if (target == 0)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }

        // Exact: a shortest path over the 256 sets of covered slices, cost (scrubs, slices scrubbed beyond need).
        var best = new (int Scrubs, int Waste, int From, int Via)?[1 << MigDeviceNames.MemorySlices];
        best[0] = (0, 0, -1, -1);
        for (var covered = 0; covered < best.Length; covered++)
        {
            if (best[covered] is not { } here || (covered & target) == target)
            {
                continue;
            }

            for (var i = 0; i < candidates.Count; i++)
            {
                var mask = candidates[i].Mask;
                if ((mask & target & ~covered) == 0)
                {
                    continue; // proves nothing new
                }

                var next = covered | mask;
                var cost = (Scrubs: here.Scrubs + 1, Waste: here.Waste + BitOperations.PopCount((uint)(mask & (covered | ~dirty))));
                if (best[next] is not { } there || (cost.Scrubs, cost.Waste).CompareTo((there.Scrubs, there.Waste)) < 0)
                {
                    best[next] = (cost.Scrubs, cost.Waste, covered, i);
                }
            }
        }

        var end = Enumerable.Range(0, best.Length)
            .Where(m => (m & target) == target && best[m] is not null)
            .MinBy(m => (best[m]!.Value.Scrubs, best[m]!.Value.Waste));
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        for (var m = end; best[m]!.Value.Via >= 0; m = best[m]!.Value.From)
        {
            chosen.Add(candidates[best[m]!.Value.Via].Name);
        }

        return chosen;
    }

    /// <summary>Whether a pass leaves <paramref name="placement"/> to the plan: not planned, and every dirty slice it covers is.</summary>
    public static bool LeftToPlan(PlacementStateSnapshot placement, PartitionSnapshot partition, IReadOnlySet<string> plan)
    {
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Count == 0 || plan.Contains(placement.Name))
        {
            return false;
        }

        var planned = partition.Placements.Where(p => plan.Contains(p.Name)).Aggregate(0, (m, p) => m | Mask(Enumerable.Range(p.Placement.Start, p.Placement.Size)));
        var dirty = Mask(partition.Slices.Where(s => s.State == MemorySliceState.Dirty).Select(s => s.Index));
        var mine = Mask(Enumerable.Range(placement.Placement.Start, placement.Placement.Size)) & dirty;
        return mine != 0 && (mine & ~planned) == 0;
    }

    private static int Mask(IEnumerable<int> slices) => slices.Where(i => i is >= 0 and < MigDeviceNames.MemorySlices).Aggregate(0, (m, i) => m | (1 << i));
}
