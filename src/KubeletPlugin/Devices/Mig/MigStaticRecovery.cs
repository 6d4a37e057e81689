using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// Start-up in static MIG mode, after the checkpoint is applied and before the first publication. A partitioned GPU
/// without proof of a verified scrub (a first install, a lost checkpoint, a replaced GPU, a GPU recorded dirty) cannot be
/// scrubbed whole while MIG mode is on (the whole-GPU scrub's coverage is unknown), but each instance the administrator
/// created can be, through its own per-instance scrub. So the GPU's doubt moves to its free memory slices
/// (<see cref="DeviceInventory.MoveDoubtToSlices"/>, durable before any scrub), and every existing instance no claim
/// holds is scrubbed through <see cref="DeviceScrub.TryRunPlacementAsync"/>: verified, exactly its slices become Clean
/// (durably, then offered); not verified, they stay Dirty and <see cref="ScrubRetryService"/> retries. Slices no
/// instance covers stay withdrawn: static mode never creates an instance to reach them.
/// </summary>
public sealed partial class MigStaticRecovery(
    PipelineContext context,
    DeviceInventory inventory,
    ClaimJournal journal,
    DeviceScrub scrubs,
    ILogger<MigStaticRecovery> logger)
{
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        if (context.Options.MigMode != MigMode.Static)
        {
            return;
        }

        var doubted = new List<string>();
        foreach (var gpu in inventory.Snapshot().Partitions.Select(p => p.Gpu.Name))
        {
            if (inventory.MoveDoubtToSlices(gpu))
            {
                doubted.Add(gpu);
            }
        }

        if (doubted.Count == 0)
        {
            return;
        }

        // Durable before any scrub starts: a crash from here on restarts with the slices dirty, never with them unproven-clean.
        await journal.CommitAsync(cancellationToken).ConfigureAwait(false);

        // GPUs in parallel (as whole-GPU start-up scrubs run), the instances of one GPU one after the other.
        await Task.WhenAll(inventory.Snapshot().Partitions.Where(p => doubted.Contains(p.Gpu.Name)).Select(p => ProveAsync(p, cancellationToken))).ConfigureAwait(false);
    }

    private async Task ProveAsync(PartitionSnapshot partition, CancellationToken cancellationToken)
    {
        var free = partition.Placements.Where(p => p.ClaimUid is null && p.State == DeviceState.Dirty).ToList();
        LogDoubtMoved(logger, partition.Gpu.Name, free.Count);
        var uncovered = partition.Slices
            .Where(s => s.State == MemorySliceState.Dirty && !partition.Placements.Any(p => s.Index >= p.Placement.Start && s.Index < p.Placement.End))
            .Select(s => s.Index)
            .ToList();
        if (uncovered.Count > 0)
        {
            LogUncovered(logger, partition.Gpu.Name, string.Join(",", uncovered));
        }

        foreach (var placement in free)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(context.Options.UnprepareBudget);
            var outcome = await scrubs.TryRunPlacementAsync(placement.Name, claimUid: null, ScrubTrigger.Startup, deadline.Token).ConfigureAwait(false);
            if (outcome is { Clean: true })
            {
                LogProven(logger, placement.Name, outcome.Detail);
            }
            else
            {
                LogStillWithdrawn(logger, placement.Name, outcome?.Detail ?? "another scrub of it is running");
            }
        }
    }
}
