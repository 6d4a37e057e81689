using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;

namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// The steps of releasing a prepared claim, each a method, in the order <see cref="ClaimPipeline"/> takes them: record
/// the release, scrub, record what stayed dirty, delete the CDI spec, then forget the claim or wait for its dirty
/// devices' withdrawal to be published. The caller holds the claim's lock and places the crash points between them.
/// </summary>
internal sealed partial class ClaimRelease(
    DeviceInventory inventory,
    ISlicePublication publication,
    CdiSpecWriter cdi,
    ClaimJournal journal,
    DeviceScrub scrubs,
    PipelineContext context,
    ILogger logger)
{
    /// <summary>The claim becomes UnprepareStarted and its devices Releasing, in one durable commit, before any scrub.</summary>
    public async Task RecordStartedAsync(string claimUid, CheckpointClaim entry, CancellationToken cancellationToken)
    {
        entry.State = ClaimCheckpointState.UnprepareStarted;
        journal.Put(claimUid, entry);
        inventory.BeginRelease(claimUid, entry.Devices.Select(d => d.Name));
        await journal.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Scrubs the claim's devices in parallel; returns those still dirty now (the retry loop may have cleaned one meanwhile).</summary>
    public async Task<List<string>> ScrubAllAsync(string claimUid, CheckpointClaim entry, CancellationToken cancellationToken)
    {
        // Scrubs get three quarters of the budget; the rest is for publishing a withdrawal if one fails.
        using var scrubDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        scrubDeadline.CancelAfter(context.Options.UnprepareBudget * 0.75);
        var outcomes = await Task.WhenAll(entry.Devices.Select(d => scrubs.ForReleaseAsync(claimUid, d.Name, scrubDeadline.Token))).ConfigureAwait(false);
        return [.. outcomes.Where(o => !o.Clean && inventory.MemoryState(o.DeviceName) is DeviceState.Dirty).Select(o => o.DeviceName)];
    }

    /// <summary>
    /// The devices' Dirty records are in the journal already; this entry lets the kubelet's retries of this
    /// Unprepare wait for the withdrawal to be published. Durable before the CDI spec goes.
    /// </summary>
    public async Task RecordScrubFailedAsync(string claimUid, CheckpointClaim entry, List<string> dirty)
    {
        entry.State = ClaimCheckpointState.ScrubFailed;
        entry.DirtyDevices = dirty;
        entry.Prepared = null;
        journal.Put(claimUid, entry);
        await journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>No container may start with the claim's devices once the release has begun.</summary>
    public void DeleteCdiSpec(string claimUid) => cdi.Delete(claimUid);

    /// <summary>
    /// Every device scrubbed and verified: the claim leaves the checkpoint. Not cancellable: the scrubs are done and a
    /// retry would only repeat them.
    /// </summary>
    public async Task ForgetAsync(string claimUid)
    {
        journal.Remove(claimUid);
        await journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Succeeds once the dirty devices' withdrawal is visible to the scheduler; otherwise names the devices and fails.</summary>
    public async Task AwaitWithdrawalPublishedAsync(ClaimRef claim, IReadOnlyList<string> dirty, CancellationToken cancellationToken)
    {
        var version = inventory.Version;
        try
        {
            await publication.WaitForPublishedAsync(version, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex)
        {
            throw new ClaimPreparationException(
                $"claim {claim.Namespace}/{claim.Name}: scrub of {string.Join(", ", dirty)} failed and the withdrawal could not be published to the API server in time; the devices stay withdrawn and the kubelet will call again", ex);
        }

        LogWithdrawn(logger, claim.Namespace, claim.Name, claim.Uid, string.Join(",", dirty));
    }
}
