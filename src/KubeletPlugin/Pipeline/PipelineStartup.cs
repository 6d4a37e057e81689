using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>
/// Brings the node's state back before anything is published or prepared: enumerates the GPUs,
/// loads the checkpoint (a corrupt one fails start-up with the file's name and what to do) and
/// applies it:
/// <list type="bullet">
/// <item>PrepareStarted: rolled back (CDI spec removed, devices free). Nothing was returned to the kubelet, so no container saw the devices.</item>
/// <item>Prepared: devices reserved for the claim again, so idempotent Prepare returns the recorded answer.</item>
/// <item>UnprepareStarted: becomes ScrubFailed: the devices stay withdrawn until a scrub verifies, the CDI spec is removed.</item>
/// <item>ScrubFailed: the dirty devices stay withdrawn.</item>
/// <item>After a reboot (boot ID changed): no claim is prepared any more, but every device a claim held is treated as
/// dirty and withdrawn until scrubbed, because a warm reboot does not guarantee VRAM is cleared.</item>
/// </list>
/// Leftover files of ours in the CDI root that no prepared claim owns, and temp files, are removed.
/// </summary>
public sealed partial class PipelineStartup(
    IGpuBackend backend,
    DeviceInventory inventory,
    ClaimJournal journal,
    CdiSpecWriter cdi,
    PipelineContext context,
    ILogger<PipelineStartup> logger)
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

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var devices = await backend.EnumerateAsync(cancellationToken).ConfigureAwait(false);
        inventory.Initialize(devices);
        var bootId = await BootId.ReadAsync(context.Options.BootIdPath, cancellationToken).ConfigureAwait(false);
        if (bootId is null)
        {
            LogNoBootId(logger, context.Options.BootIdPath);
        }

        var data = await journal.File.ReadAsync(cancellationToken).ConfigureAwait(false) ?? new CheckpointData();
        var rebooted = bootId is not null && data.BootId is not null && data.BootId != bootId;
        if (rebooted)
        {
            LogRebooted(logger, data.BootId!, bootId!);
        }

        foreach (var (uid, claim) in data.Claims.ToList())
        {
            var names = claim.Devices.Select(d => d.Name).Where(n => Known(n, uid)).ToList();
            switch (claim.State)
            {
                case ClaimCheckpointState.PrepareStarted:
                    cdi.Delete(uid);
                    data.Claims.Remove(uid);
                    LogRolledBack(logger, uid);
                    break;

                case ClaimCheckpointState.Prepared when !rebooted:
                    try
                    {
                        inventory.Reserve(uid, names);
                    }
                    catch (DeviceReservationException ex)
                    {
                        throw CheckpointCorruptException.For(journal.File.Path, $"claim {uid} records devices held by another claim ({ex.Message})");
                    }

                    break;

                case ClaimCheckpointState.ScrubFailed:
                    foreach (var name in (claim.DirtyDevices ?? []).Where(n => Known(n, uid)))
                    {
                        inventory.Withdraw(name, WithdrawalReason.ScrubFailed, $"scrub after claim {uid} did not verify");
                    }

                    break;

                default:
                    // Prepared after a reboot, or UnprepareStarted: the memory may hold the tenant's data.
                    cdi.Delete(uid);
                    claim.State = ClaimCheckpointState.ScrubFailed;
                    claim.DirtyDevices = names;
                    claim.Prepared = null;
                    foreach (var name in names)
                    {
                        inventory.Withdraw(name, WithdrawalReason.VramDirty, rebooted ? $"held by claim {uid} before the node rebooted" : $"release of claim {uid} was interrupted");
                    }

                    if (names.Count == 0)
                    {
                        data.Claims.Remove(uid);
                    }

                    LogKeptDirty(logger, uid, string.Join(",", names));
                    break;
            }
        }

        RemoveLeftovers(data);
        journal.Load(data);
        journal.SetBootId(bootId);
        await journal.CommitAsync(cancellationToken).ConfigureAwait(false);
        LogReady(logger, devices.Count, data.Claims.Count);
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

        var prefix = $"{context.CdiVendor}-claim_";
        foreach (var path in Directory.EnumerateFiles(cdi.Root))
        {
            var name = Path.GetFileName(path);
            var isTemp = name.StartsWith("." + prefix, StringComparison.Ordinal) && name.EndsWith(".tmp", StringComparison.Ordinal);
            var isOurs = name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal);
            if (isOurs)
            {
                var uid = name[prefix.Length..^".json".Length];
                if (data.Claims.TryGetValue(uid, out var c) && c.State == ClaimCheckpointState.Prepared)
                {
                    continue;
                }
            }

            if (isTemp || isOurs)
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

    [LoggerMessage(EventId = 4300, Level = LogLevel.Information, Message = "Pipeline ready: {DeviceCount} device(s), {ClaimCount} claim(s) in the checkpoint")]
    private static partial void LogReady(ILogger logger, int deviceCount, int claimCount);

    [LoggerMessage(EventId = 4301, Level = LogLevel.Warning, Message = "Node rebooted (boot ID {OldBootId} → {NewBootId}): prepared claims are void; their devices stay withdrawn until scrubbed")]
    private static partial void LogRebooted(ILogger logger, string oldBootId, string newBootId);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Information, Message = "Rolled back interrupted prepare of claim {ClaimUid}")]
    private static partial void LogRolledBack(ILogger logger, string claimUid);

    [LoggerMessage(EventId = 4303, Level = LogLevel.Warning, Message = "Claim {ClaimUid}: devices {Devices} may hold tenant data; withdrawn until a scrub verifies")]
    private static partial void LogKeptDirty(ILogger logger, string claimUid, string devices);

    [LoggerMessage(EventId = 4304, Level = LogLevel.Warning, Message = "Checkpoint names device {Device} (claim {ClaimUid}) which this node no longer has")]
    private static partial void LogUnknownDevice(ILogger logger, string device, string claimUid);

    [LoggerMessage(EventId = 4305, Level = LogLevel.Information, Message = "Removed leftover file {Path}")]
    private static partial void LogLeftover(ILogger logger, string path);

    [LoggerMessage(EventId = 4306, Level = LogLevel.Warning, Message = "Boot ID file {Path} not readable: reboot detection is off")]
    private static partial void LogNoBootId(ILogger logger, string path);
}
