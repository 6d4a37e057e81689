using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>
/// Brings the node's state back before anything is published or prepared (docs/isolation.md,
/// "Start-up"): enumerates the GPUs, loads the checkpoint (a corrupt one fails start-up with the
/// file's name and a recovery that is safe to follow) and applies it. The device inventory decides
/// each device's state from its durable record and the claims' evidence; this class decides what
/// happens to each claim:
/// <list type="bullet">
/// <item>PrepareStarted: rolled back (CDI spec removed). Nothing was returned to the kubelet, so no container saw the devices.</item>
/// <item>Prepared: kept, so idempotent Prepare returns the recorded answer; its devices are held again, and its CDI spec is
/// written again if it is missing or not what the checkpoint implies (<see cref="CdiSpecRestore"/>).</item>
/// <item>UnprepareStarted, or Prepared after a reboot: becomes ScrubFailed (CDI spec removed) listing the devices it may have
/// left dirty, minus any that a prepared claim holds again (they were scrubbed and handed out before the crash).</item>
/// <item>ScrubFailed: kept while one of its devices is still dirty.</item>
/// </list>
/// Then GPUs in MIG mode are withdrawn, and every device with no proof of a verified scrub (no
/// checkpoint, a checkpoint from before device records, a replaced GPU) is scrubbed before
/// start-up completes, so the first publication offers only proven-clean devices. In dynamic MIG mode every MIG
/// instance that no prepared claim records is scrubbed and then destroyed (<see cref="MigInstanceRecovery"/>); in static MIG mode
/// a GPU without proof has each existing instance scrubbed on its own (<see cref="MigStaticRecovery"/>). Leftover files
/// of ours in the CDI root that no prepared claim owns, and temp files, are removed.
/// </summary>
public sealed partial class PipelineStartup(
    IGpuBackend backend,
    DeviceInventory inventory,
    ClaimJournal journal,
    CdiSpecWriter cdi,
    DeviceScrub scrubs,
    MigModeMonitor mig,
    PipelineContext context,
    ILogger<PipelineStartup> logger,
    MigPartitionSetup? partitions = null,
    ConfidentialComputeMonitor? confidential = null,
    MigInstanceRecovery? migInstances = null,
    MigStaticRecovery? migStatic = null,
    CdiSpecRestore? specs = null)
{
    private readonly Lock _lock = new();
    private Task? _started;

    /// <summary>Starts recovery once; later calls return the same task. Faulted when start-up failed.</summary>
    public Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            // Recovery must finish even if the first caller gives up; it is not tied to that caller's token.
            _started ??= Task.Run(() => RecoverAsync(CancellationToken.None), CancellationToken.None);
            return _started.WaitAsync(cancellationToken);
        }
    }

    public Task WaitUntilReadyAsync(CancellationToken cancellationToken) => EnsureStartedAsync(cancellationToken);

    /// <summary>
    /// True when this process found no checkpoint (first install, wiped directory, file moved aside):
    /// claims prepared before then are unknown here, yet a container may still hold their GPUs.
    /// </summary>
    public bool StartedWithoutCheckpoint { get; private set; }

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var devices = await backend.EnumerateAsync(cancellationToken).ConfigureAwait(false);
        inventory.Initialize(devices);
        if (confidential is not null)
        {
            // First: MIG is refused while CC is on, and a GPU that is not ready is never offered.
            await confidential.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        if (partitions is not null)
        {
            // Before Restore: the checkpoint's memory slice records need their GPUs partitioned.
            await partitions.ConfigureAsync(devices, cancellationToken).ConfigureAwait(false);
        }

        var bootId = await BootId.ReadAsync(context.Options.BootIdPath, cancellationToken).ConfigureAwait(false);
        if (bootId is null)
        {
            LogNoBootId(logger, context.Options.BootIdPath);
        }

        var read = await journal.File.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (read is null)
        {
            StartedWithoutCheckpoint = true;
            LogNoCheckpoint(logger, journal.File.Path, devices.Count);
        }

        var data = read ?? new CheckpointData();
        var rebooted = bootId is not null && data.BootId is not null && data.BootId != bootId;
        if (rebooted)
        {
            LogRebooted(logger, data.BootId!, bootId!);
        }

        var kept = data.Claims.Where(c => c.Value.State == ClaimCheckpointState.Prepared && !rebooted).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        try
        {
            inventory.Restore(data.Devices, data.Claims, kept, rebooted);
        }
        catch (DeviceReservationException ex)
        {
            throw CheckpointCorruptException.For(journal.File.Path, $"it records devices held by another claim ({ex.Message})");
        }

        var held = data.Claims.Where(c => kept.Contains(c.Key)).SelectMany(c => c.Value.Devices.Select(d => d.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (var (uid, claim) in data.Claims.ToList())
        {
            ApplyClaim(data, uid, claim, rebooted, held);
        }

        RemoveLeftovers(data);
        data.Devices = null; // rewritten below from the inventory, for the devices this node has now
        journal.Load(data);
        journal.SetBootId(bootId);
        inventory.RecordAll();
        await journal.CommitAsync(cancellationToken).ConfigureAwait(false);

        await mig.RefreshAsync(devices, cancellationToken).ConfigureAwait(false);
        if (migInstances is not null)
        {
            // Dynamic MIG: instances no prepared claim records are scrubbed, then destroyed, before anything is published.
            await migInstances.RecoverAsync(cancellationToken).ConfigureAwait(false);
        }

        if (migStatic is not null)
        {
            // Static MIG: a GPU without proof proves each existing instance through its own scrub before it is published.
            await migStatic.RecoverAsync(cancellationToken).ConfigureAwait(false);
        }

        await RestoreCdiSpecsAsync(cancellationToken).ConfigureAwait(false);
        await ScrubUnprovenAsync(cancellationToken).ConfigureAwait(false);
        LogReady(logger, devices.Count, data.Claims.Count);
    }

    private void ApplyClaim(CheckpointData data, string uid, CheckpointClaim claim, bool rebooted, HashSet<string> held)
    {
        switch (claim.State)
        {
            case ClaimCheckpointState.PrepareStarted:
                cdi.Delete(uid);
                data.Claims.Remove(uid);
                LogRolledBack(logger, uid);
                break;

            case ClaimCheckpointState.Prepared when !rebooted:
                foreach (var name in claim.Devices.Select(d => d.Name))
                {
                    _ = Known(name, uid);
                }

                break;

            case ClaimCheckpointState.ScrubFailed:
                claim.DirtyDevices = [.. (claim.DirtyDevices ?? []).Where(n => Known(n, uid) && !held.Contains(n) && inventory.Get(n)?.State == DeviceState.Dirty)];
                if (claim.DirtyDevices.Count == 0)
                {
                    data.Claims.Remove(uid);
                }

                break;

            default:
                // Prepared after a reboot, or UnprepareStarted: the memory may hold the tenant's data.
                cdi.Delete(uid);
                var names = claim.Devices.Select(d => d.Name).Where(n => Known(n, uid) && !held.Contains(n)).ToList();
                claim.State = ClaimCheckpointState.ScrubFailed;
                claim.DirtyDevices = names;
                claim.Prepared = null;
                if (names.Count == 0)
                {
                    data.Claims.Remove(uid);
                }

                LogKeptDirty(logger, uid, string.Join(",", names));
                break;
        }
    }

    /// <summary>
    /// Every claim kept Prepared gets its CDI spec back if a crash between Prepare's two overlapping writes (or an
    /// emptied CDI root) left it missing or different: before the first Prepare is answered from the checkpoint.
    /// </summary>
    private async Task RestoreCdiSpecsAsync(CancellationToken cancellationToken)
    {
        if (specs is null)
        {
            return;
        }

        foreach (var (uid, claim) in journal.Claims().Where(c => c.Value.State == ClaimCheckpointState.Prepared))
        {
            await specs.RepairAsync(uid, claim, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Scrubs, in parallel, every device with no proof of a verified scrub, before the first
    /// publication. A scrub that does not verify leaves the device dirty and withdrawn (the retry
    /// loop tries again); start-up itself still succeeds.
    /// </summary>
    private async Task ScrubUnprovenAsync(CancellationToken cancellationToken)
    {
        var unproven = inventory.InState(DeviceState.Unknown);
        if (unproven.Count == 0)
        {
            return;
        }

        LogScrubbingUnproven(logger, string.Join(",", unproven));
        var outcomes = await Task.WhenAll(unproven.Select(async name =>
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(context.Options.UnprepareBudget);
            return await scrubs.TryRunAsync(inventory.Find(name)!, claimUid: null, ScrubTrigger.Startup, deadline.Token).ConfigureAwait(false);
        })).ConfigureAwait(false);
        foreach (var failed in outcomes.Where(o => o is { Clean: false }))
        {
            LogUnprovenStillDirty(logger, failed!.DeviceName, failed.Detail);
        }
    }

    private bool Known(string deviceName, string uid)
    {
        if (inventory.Find(deviceName) is not null)
        {
            return true;
        }

        LogUnknownDevice(logger, deviceName, uid);
        return false;
    }

    private void RemoveLeftovers(CheckpointData data)
    {
        if (!Directory.Exists(cdi.Root))
        {
            return;
        }

        foreach (var path in Directory.EnumerateFiles(cdi.Root))
        {
            var name = Path.GetFileName(path);
            var isTemp = cdi.IsLeftoverTemporary(name);
            var uid = cdi.ClaimUidOf(name);
            if (uid is not null && data.Claims.TryGetValue(uid, out var c) && c.State == ClaimCheckpointState.Prepared)
            {
                continue;
            }

            if (isTemp || uid is not null)
            {
                File.Delete(path);
                LogLeftover(logger, path);
            }
        }

        var checkpointDir = Path.GetDirectoryName(journal.File.Path)!;
        if (Directory.Exists(checkpointDir))
        {
            foreach (var path in Directory.EnumerateFiles(checkpointDir, $".{Path.GetFileName(journal.File.Path)}.*.tmp"))
            {
                File.Delete(path);
                LogLeftover(logger, path);
            }
        }
    }
}
