using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;

namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// Releases (with scrub) claims the checkpoint holds as Prepared whose ResourceClaim no longer
/// exists or was replaced by one with another UID. A claim in use cannot be deleted (its
/// finalizer and reservedFor hold it), so a definite "gone" means no pod uses the devices and
/// the kubelet missed or will never send the Unprepare (NVIDIA's driver leaks these, its
/// issue #1278). Only a definite answer acts; an API error skips the claim until next time.
/// </summary>
public sealed partial class StaleClaimReaper(
    IResourceApi api,
    IClaimPipeline pipeline,
    ClaimJournal journal,
    PipelineStartup startup,
    PipelineContext context,
    TimeProvider time,
    ILogger<StaleClaimReaper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await startup.WaitUntilReadyAsync(stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(context.Options.StaleClaimCheckInterval, time, stoppingToken).ConfigureAwait(false);
                await ReapOnceAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogStopped(logger, ex.Message);
        }
    }

    /// <summary>One pass; returns the UIDs released.</summary>
    public async Task<IReadOnlyList<string>> ReapOnceAsync(CancellationToken cancellationToken)
    {
        var stale = new List<ClaimRef>();
        foreach (var (uid, claim) in journal.Claims())
        {
            if (claim.State != ClaimCheckpointState.Prepared)
            {
                continue;
            }

            try
            {
                var current = await api.GetClaimAsync(claim.Namespace, claim.Name, cancellationToken).ConfigureAwait(false);
                if (current is null || current.Uid != uid)
                {
                    stale.Add(new ClaimRef(claim.Namespace, claim.Name, uid));
                }
            }
            catch (KubeApiException ex)
            {
                LogSkipped(logger, claim.Namespace, claim.Name, ex.Message);
            }
        }

        if (stale.Count == 0)
        {
            return [];
        }

        var results = await pipeline.UnprepareAsync(stale, cancellationToken).ConfigureAwait(false);
        foreach (var claim in stale)
        {
            LogReaped(logger, claim.Namespace, claim.Name, claim.Uid, results[claim.Uid].Error ?? "released");
        }

        return [.. stale.Where(c => results[c.Uid].Error is null).Select(c => c.Uid)];
    }

    [LoggerMessage(EventId = 4600, Level = LogLevel.Warning, Message = "Claim {Namespace}/{Name} ({ClaimUid}) is gone from the API server but still prepared here; releasing it: {Outcome}")]
    private static partial void LogReaped(ILogger logger, string @namespace, string name, string claimUid, string outcome);

    [LoggerMessage(EventId = 4601, Level = LogLevel.Debug, Message = "Could not check claim {Namespace}/{Name}: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string @namespace, string name, string reason);

    [LoggerMessage(EventId = 4602, Level = LogLevel.Error, Message = "Stale-claim reaper stopped: {Reason}")]
    private static partial void LogStopped(ILogger logger, string reason);
}
