using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>
/// Puts back the CDI spec of a prepared claim that lost it. Prepare writes a claim's spec and its Prepared commit at
/// the same time (ClaimPipeline), so a crash between the two can leave the claim Prepared in the checkpoint with no
/// spec; a tmpfs CDI root emptied under a running node does the same. A spec is a function of the claim's UID and its
/// devices, so it can be written again byte for byte, and the kubelet's retried Prepare gets the CDI IDs it was (or
/// would have been) answered with, backed by the same file. A whole GPU is the inventory's device under the recorded
/// UUID. A MIG device's nodes come from its instance: the checkpoint records which one (<see cref="CheckpointMigSpec"/>)
/// and the rebuild finds the instance at the placement again through <see cref="MigInstanceLocator"/>, using it only
/// when its MIG UUID, GPU- and compute-instance ids and parent UUID are the recorded ones (an instance re-created behind
/// the plugin, or a checkpoint written before the record existed, is not rebuilt).
/// Registered by the plugin's pipeline only: the driver proxy's prepared claims name the vendor's CDI specs, not ours.
/// </summary>
public sealed partial class CdiSpecRestore(CdiSpecWriter cdi, DeviceInventory inventory, MigInstanceLocator migInstances, MetricsRegistry metrics, ILogger<CdiSpecRestore> logger)
{
    private readonly Counter _restored = metrics.Counter(
        "securedra_cdi_spec_restored_total",
        "CDI specs of prepared claims written again: missing, or differing from what the checkpoint implies; unrestorable: missing and not rebuildable (a MIG instance not recorded or changed, a GPU that changed); removed: at start-up, built for a MIG instance that is no longer there; failed: the write failed at start-up, or the MIG instance could not be read (at start-up or before a retried Prepare, which then fails).",
        "outcome");

    /// <summary>
    /// Prepare's test before it overlaps the spec write with the Prepared commit: whether <paramref name="claim"/>, as it
    /// is about to be committed, records enough to rebuild the spec of exactly <paramref name="devices"/>. A whole GPU
    /// must be the inventory's device as it is; a MIG device must carry its <see cref="CheckpointMigSpec"/> for the
    /// parent the inventory has (the rebuild then finds that instance again). Asks no backend: this is Prepare's hot path.
    /// </summary>
    public bool CanRebuild(CheckpointClaim claim, IReadOnlyList<GpuDevice> devices)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(devices);
        if (claim.Devices.Count == 0 || claim.Devices.Count != devices.Count)
        {
            return false;
        }

        for (var i = 0; i < devices.Count; i++)
        {
            var recorded = claim.Devices[i];
            if (recorded.Name != devices[i].Name || recorded.Uuid != devices[i].Uuid)
            {
                return false;
            }

            var rebuildable = inventory.FindPlacement(recorded.Name) is { } placement
                ? recorded.MigSpec is { } spec && spec.ParentUuid == placement.Parent.Uuid
                : WholeGpu(recorded) is { } gpu && gpu == devices[i];
            if (!rebuildable)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>An idempotent Prepare's check before it answers: one stat; the spec is written again when it is missing.</summary>
    public async Task EnsureExistsAsync(string claimUid, CheckpointClaim claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        if (cdi.Exists(claimUid))
        {
            return;
        }

        var rebuild = await RebuildAsync(claim, cancellationToken).ConfigureAwait(false);
        if (rebuild.Unavailable is { } error)
        {
            // Answering would hand the kubelet CDI IDs with no spec behind them while the instance may well be fine:
            // fail, and the kubelet's next retry tries again.
            _restored.Inc("failed");
            LogInstanceUnreadable(logger, claim.Namespace, claim.Name, claimUid, cdi.FileName(claimUid), error);
            throw new InvalidOperationException($"claim {claim.Namespace}/{claim.Name}: its CDI spec {cdi.FileName(claimUid)} is missing and the MIG instance it is built from could not be read: {error}");
        }

        await RestoreAsync(claimUid, claim, rebuild, CdiSpecOnDisk.Missing, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Start-up: the spec is written again when it is missing or not byte for byte what the checkpoint implies. A write
    /// that fails, or a MIG instance that cannot be read, is logged and counted, not thrown: start-up must still come up
    /// to release claims and scrub (a retried Prepare of this claim tries again and fails visibly if it still cannot).
    /// A spec built for a MIG instance that is positively no longer there (another instance at the placement, none, a
    /// different parent GPU) is removed: its capability nodes may now name another instance, another tenant's memory.
    /// Any other spec that cannot be rebuilt (nothing recorded) is left as it is.
    /// </summary>
    public async Task RepairAsync(string claimUid, CheckpointClaim claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        var rebuild = await RebuildAsync(claim, cancellationToken).ConfigureAwait(false);
        if (rebuild.Unavailable is { } error)
        {
            _restored.Inc("failed");
            LogInstanceUnreadable(logger, claim.Namespace, claim.Name, claimUid, cdi.FileName(claimUid), error);
            return;
        }

        var onDisk = rebuild.Devices is null
            ? (cdi.Exists(claimUid) ? CdiSpecOnDisk.Same : CdiSpecOnDisk.Missing)
            : cdi.Compare(claimUid, cdi.Encode(claimUid, rebuild.Devices));
        if (onDisk == CdiSpecOnDisk.Same)
        {
            if (rebuild.InstanceChanged)
            {
                cdi.Delete(claimUid);
                _restored.Inc("removed");
                LogStaleRemoved(logger, claim.Namespace, claim.Name, claimUid, cdi.FileName(claimUid), rebuild.Refusal!);
            }

            return;
        }

        try
        {
            await RestoreAsync(claimUid, claim, rebuild, onDisk, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _restored.Inc("failed");
            LogRestoreFailed(logger, claim.Namespace, claim.Name, claimUid, cdi.FileName(claimUid), ex.Message);
        }
    }

    private async Task RestoreAsync(string claimUid, CheckpointClaim claim, SpecRebuild rebuild, CdiSpecOnDisk onDisk, CancellationToken cancellationToken)
    {
        if (rebuild.Devices is not { } devices)
        {
            _restored.Inc("unrestorable");
            LogUnrestorable(logger, claim.Namespace, claim.Name, claimUid, cdi.FileName(claimUid), rebuild.Refusal ?? "nothing recorded");
            return;
        }

        await cdi.WriteAsync(claimUid, devices, cancellationToken).ConfigureAwait(false);
        var outcome = onDisk == CdiSpecOnDisk.Missing ? "missing" : "differed";
        _restored.Inc(outcome);
        LogRestored(logger, claim.Namespace, claim.Name, claimUid, cdi.FileName(claimUid), outcome);
    }

    /// <summary>The devices the claim's spec is built from, found again; or why not (refused, or the MIG backend unreadable now).</summary>
    private async Task<SpecRebuild> RebuildAsync(CheckpointClaim claim, CancellationToken cancellationToken)
    {
        if (claim.Devices.Count == 0)
        {
            return SpecRebuild.Refused("the claim records no device");
        }

        var devices = new List<GpuDevice>(claim.Devices.Count);
        foreach (var recorded in claim.Devices)
        {
            if (recorded.MigSpec is not null || inventory.IsPlacement(recorded.Name))
            {
                var (device, failed) = await MigDeviceAsync(recorded, cancellationToken).ConfigureAwait(false);
                if (failed is not null)
                {
                    return failed;
                }

                devices.Add(device!);
                continue;
            }

            if (WholeGpu(recorded) is not { } gpu)
            {
                return SpecRebuild.Refused($"device {recorded.Name} is not the GPU {recorded.Uuid} the claim recorded");
            }

            devices.Add(gpu);
        }

        return new SpecRebuild(devices, null, null, false);
    }

    /// <summary>The inventory's whole GPU under the recorded name and UUID; null for anything else.</summary>
    private GpuDevice? WholeGpu(CheckpointDevice recorded) =>
        recorded.MigInstance is null && recorded.MigSpec is null && !inventory.IsPlacement(recorded.Name) && inventory.Find(recorded.Name) is { } gpu && gpu.Uuid == recorded.Uuid
            ? gpu
            : null;

    /// <summary>
    /// A MIG device as its container received it, through the instance found at its placement now, and only if that is
    /// the recorded instance: same parent GPU, MIG UUID (a new one is issued for every instance created), GPU- and
    /// compute-instance ids. The capability nodes are derived again from the driver's mig-minors list, as Prepare did.
    /// </summary>
    private async Task<(GpuDevice? Device, SpecRebuild? Failed)> MigDeviceAsync(CheckpointDevice recorded, CancellationToken cancellationToken)
    {
        if (recorded.MigSpec is not { } spec)
        {
            return (null, SpecRebuild.Refused($"device {recorded.Name}: the checkpoint does not record its MIG instance (written before migSpec existed)"));
        }

        if (inventory.FindPlacement(recorded.Name) is not { } placement)
        {
            // Static mode lists a placement only where an instance exists: a GPU partitioned now (its instances were
            // read) without this placement has no instance there. Otherwise its MIG layout is unknown: nothing is known.
            var partitioned = inventory.Snapshot().Partitions.Any(p => p.Gpu.Uuid == spec.ParentUuid);
            return (null, partitioned
                ? SpecRebuild.Changed($"device {recorded.Name}: no MIG instance is at its placement any more")
                : SpecRebuild.Refused($"device {recorded.Name}: its parent GPU {spec.ParentUuid} is not partitioned on this node now"));
        }

        if (placement.Parent.Uuid != spec.ParentUuid)
        {
            return (null, SpecRebuild.Changed($"device {recorded.Name}: its parent GPU is {placement.Parent.Uuid}, not the recorded {spec.ParentUuid}"));
        }

        try
        {
            var (parent, _, _, instance) = await migInstances.AtPlacementAsync(recorded.Name, cancellationToken).ConfigureAwait(false);
            if (instance is null)
            {
                return (null, SpecRebuild.Changed($"device {recorded.Name}: no MIG instance is at its placement any more"));
            }

            if (instance.Uuid != recorded.Uuid || instance.GpuInstanceId != spec.GpuInstanceId || instance.ComputeInstances is not [{ } ci] || ci.Id != spec.ComputeInstanceId)
            {
                return (null, SpecRebuild.Changed(
                    $"device {recorded.Name}: the MIG instance there is {instance.Uuid ?? "without a UUID"} (GPU instance {instance.GpuInstanceId}, {instance.ComputeInstances.Count} compute instances), not the recorded {recorded.Uuid} (GPU instance {spec.GpuInstanceId}, compute instance {spec.ComputeInstanceId})"));
            }

            return (await migInstances.ForContainerAsync(recorded.Name, parent, instance, cancellationToken).ConfigureAwait(false), null);
        }
        catch (InvalidOperationException ex)
        {
            // No MIG backend, or the capability list unreadable or without the instance's entries: not rebuilt, and
            // nothing says the instance changed.
            return (null, SpecRebuild.Refused(ex.Message));
        }
        catch (GpuBackendException ex)
        {
            return (null, new SpecRebuild(null, null, $"device {recorded.Name}: {ex.Message}", false));
        }
    }

    /// <param name="Devices">The devices to build the spec from; null when it cannot be rebuilt.</param>
    /// <param name="Refusal">Why it is not rebuilt: unrestorable.</param>
    /// <param name="Unavailable">The MIG backend's error: nothing is known now, a later attempt may succeed.</param>
    /// <param name="InstanceChanged">The recorded MIG instance is positively not there (another one, none, another parent): a spec built for it is stale.</param>
    private sealed record SpecRebuild(IReadOnlyList<GpuDevice>? Devices, string? Refusal, string? Unavailable, bool InstanceChanged)
    {
        public static SpecRebuild Refused(string reason) => new(null, reason, null, false);

        public static SpecRebuild Changed(string reason) => new(null, reason, null, true);
    }
}
