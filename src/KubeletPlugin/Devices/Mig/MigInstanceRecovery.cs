using SecureDra.Nvml.Scrubbing;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// Start-up in dynamic MIG mode, after the checkpoint is applied and before the first publication: every MIG instance
/// on a partitioned GPU is either one a prepared claim records (re-adopted; a different MIG UUID than recorded is
/// logged, the claim keeps its slices and its release cleans whatever instance is there) or one nobody does (a crash
/// after the create and before the checkpoint, a crash after the scrub and before the destroy, leftovers of an
/// administrator or of NVIDIA's tools). Those are marked dirty and cleaned now through <see cref="DeviceScrub"/>: scrubbed
/// (a compute instance created first if they have none), verified, and only then destroyed. An instance whose scrub
/// fails is kept and its slices stay withdrawn for the retry loop. Dirty slices with no instance at all are left to the
/// retry loop, which scrubs them through a temporary instance at the placement (<see cref="MigInstanceLifecycle.CleanAsync"/>),
/// the largest placement first. A partitioned GPU without proof of a verified scrub (a first start, a lost checkpoint)
/// cannot be scrubbed whole while MIG mode is on: its doubt moves to its slices, which are then scrubbed that way.
/// </summary>
public sealed partial class MigInstanceRecovery(
    PipelineContext context,
    DeviceInventory inventory,
    ClaimJournal journal,
    DeviceScrub scrubs,
    ILogger<MigInstanceRecovery> logger,
    IMigBackend? mig = null)
{
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        if (context.Options.MigMode != MigMode.Dynamic || mig is null)
        {
            return;
        }

        var toClean = new List<string>();
        foreach (var gpu in inventory.Snapshot().Partitions.Select(p => p.Gpu.Name))
        {
            if (inventory.MoveDoubtToSlices(gpu))
            {
                LogDoubtMoved(logger, gpu);
            }
        }

        foreach (var partition in inventory.Snapshot().Partitions)
        {
            IReadOnlyList<MigInstance> instances;
            try
            {
                instances = await mig.GetInstancesAsync(partition.Gpu, cancellationToken).ConfigureAwait(false);
            }
            catch (GpuBackendException ex)
            {
                // Unknown instances may hold another tenant's data and be destroyed behind our back later: fail closed.
                LogInstancesUnreadable(logger, partition.Gpu.Name, ex.Message);
                inventory.MarkSlicesDirty(partition.Gpu.Name, new MigPlacement(0, MigPlacement.MemorySliceCount), "its MIG instances could not be listed at start-up: " + ex.Message);
                continue;
            }

            foreach (var instance in instances)
            {
                if (Classify(partition, instance) is { } name)
                {
                    toClean.Add(name);
                }
            }
        }

        await journal.CommitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var name in toClean)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(context.Options.UnprepareBudget);
            var outcome = await scrubs.TryRunPlacementAsync(name, claimUid: null, ScrubTrigger.Startup, deadline.Token).ConfigureAwait(false);
            if (outcome is { Clean: true })
            {
                LogRecovered(logger, name, outcome.Detail);
            }
            else
            {
                LogStillDirty(logger, name, outcome?.Detail ?? "another scrub of it is running");
            }
        }
    }

    /// <summary>Re-adopts an instance a prepared claim records; otherwise marks its placement dirty and returns the placement to clean (null: leave it).</summary>
    private string? Classify(PartitionSnapshot partition, MigInstance instance)
    {
        var placement = partition.Placements.FirstOrDefault(p => p.Profile.Id == instance.ProfileId && p.Placement == instance.Placement);
        if (placement is null)
        {
            // No device name covers it (a profile this node does not publish): its memory is withdrawn, never offered.
            LogUnknownProfile(logger, partition.Gpu.Name, instance.GpuInstanceId, instance.ProfileName);
            inventory.MarkSlicesDirty(partition.Gpu.Name, instance.Placement, $"MIG instance {instance.GpuInstanceId} of profile {instance.ProfileName}, which this node does not publish, holds this memory");
            return null;
        }

        if (placement.ClaimUid is { } holder)
        {
            var recorded = journal.Get(holder)?.Devices.FirstOrDefault(d => d.Name == placement.Name)?.MigInstance;
            if (placement.State == DeviceState.Prepared && recorded is not null)
            {
                if (recorded.Uuid == instance.Uuid && recorded.GpuInstanceId == instance.GpuInstanceId)
                {
                    LogAdopted(logger, placement.Name, instance.GpuInstanceId, holder);
                }
                else
                {
                    LogUuidMismatch(logger, placement.Name, holder, recorded.Uuid ?? "(none)", instance.Uuid ?? "(none)");
                }
            }
            else
            {
                // Memory a claim holds is never scrubbed under it; the claim's release cleans it.
                LogHeldOverlap(logger, placement.Name, instance.GpuInstanceId, holder);
            }

            return null;
        }

        LogFoundUnrecorded(logger, placement.Name, instance.GpuInstanceId, instance.Uuid ?? "(no compute instance)");
        if (placement.State != DeviceState.Dirty)
        {
            inventory.Withdraw(placement.Name, WithdrawalReason.VramDirty, $"MIG instance {instance.GpuInstanceId} found at start-up that no prepared claim records");
        }

        return placement.Name;
    }

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.DoubtMovedToSlices, Level = LogLevel.Warning, Message = "GPU {Device} has no proof of a verified scrub and is in MIG mode: every free memory slice is withdrawn until scrubbed through a temporary MIG instance")]
    private static partial void LogDoubtMoved(ILogger logger, string device);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.Adopted, Level = LogLevel.Information, Message = "MIG instance {GpuInstanceId} at {Device} re-adopted for prepared claim {ClaimUid}")]
    private static partial void LogAdopted(ILogger logger, string device, int gpuInstanceId, string claimUid);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.AdoptedUuidMismatch, Level = LogLevel.Warning, Message = "MIG instance at {Device} of prepared claim {ClaimUid} is not the one recorded (recorded {Recorded}, found {Found}); the claim keeps its memory and its release cleans whatever instance is there")]
    private static partial void LogUuidMismatch(ILogger logger, string device, string claimUid, string recorded, string found);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.FoundUnrecorded, Level = LogLevel.Warning, Message = "MIG instance {GpuInstanceId} ({Uuid}) at {Device} is not recorded as prepared: it is scrubbed, then destroyed")]
    private static partial void LogFoundUnrecorded(ILogger logger, string device, int gpuInstanceId, string uuid);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.RecoveryScrubbed, Level = LogLevel.Information, Message = "Start-up: {Device} cleaned: {Detail}")]
    private static partial void LogRecovered(ILogger logger, string device, string detail);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.RecoveryStillDirty, Level = LogLevel.Warning, Message = "Start-up: {Device} stays withdrawn: {Detail}; the retry loop tries again")]
    private static partial void LogStillDirty(ILogger logger, string device, string detail);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.InstancesUnreadable, Level = LogLevel.Warning, Message = "MIG instances of GPU {Device} could not be listed at start-up ({Reason}); every free memory slice is withdrawn until scrubbed")]
    private static partial void LogInstancesUnreadable(ILogger logger, string device, string reason);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.UnknownProfile, Level = LogLevel.Warning, Message = "MIG instance {GpuInstanceId} on GPU {Device} has profile {Profile}, which this node does not publish; its memory slices stay withdrawn")]
    private static partial void LogUnknownProfile(ILogger logger, string device, int gpuInstanceId, string profile);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.HeldOverlap, Level = LogLevel.Warning, Message = "MIG instance {GpuInstanceId} at {Device} overlaps memory held by claim {ClaimUid}; left alone until that claim is released")]
    private static partial void LogHeldOverlap(ILogger logger, string device, int gpuInstanceId, string claimUid);
}
