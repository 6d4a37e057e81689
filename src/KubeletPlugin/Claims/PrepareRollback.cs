using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.State;

namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// Undoes a prepare that never answered the kubelet: no container saw the devices, so no scrub is needed, except
/// where this prepare created (or may have created) a MIG instance. Those go Dirty: the retry loop scrubs the
/// instance and only then destroys it (an instance is never destroyed unscrubbed).
/// </summary>
internal sealed partial class PrepareRollback(CdiSpecWriter cdi, ClaimJournal journal, DeviceInventory inventory, ILogger logger)
{
    /// <summary>Rolls back a recorded PrepareStarted entry: its devices, and its MIG intents as possibly created.</summary>
    public Task RollBackAsync(string claimUid, CheckpointClaim recorded) =>
        RollBackAsync(claimUid, recorded.Devices.Select(d => d.Name).ToList(), MigIntents(recorded));

    /// <param name="migCreated">Placements where this prepare created (or may have created) a MIG instance.</param>
    public async Task RollBackAsync(string claimUid, IReadOnlyList<string> deviceNames, IReadOnlyCollection<string>? migCreated = null)
    {
        cdi.Delete(claimUid);
        journal.Remove(claimUid);

        // Any commit from here on carries both the removal and the devices' Clean (or Dirty) records.
        if (migCreated is { Count: > 0 })
        {
            inventory.Abandon(claimUid, migCreated, $"prepare of claim {claimUid} created a MIG instance here and did not complete");
            LogPrepareAbandoned(logger, claimUid, string.Join(",", migCreated));
        }

        inventory.Release(claimUid, deviceNames);
        await journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The placements of a recorded claim whose prepare may have created a MIG instance (dynamic MIG).</summary>
    private static List<string> MigIntents(CheckpointClaim entry) => [.. entry.Devices.Where(d => d.MigInstance is not null).Select(d => d.Name)];
}
