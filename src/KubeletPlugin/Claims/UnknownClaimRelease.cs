using Microsoft.Extensions.Logging;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;

namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// The kubelet releases a claim this node has no record of (the checkpoint was lost or moved aside while the claim
/// was in use): its container may have written to its GPUs after the start-up scrub. Every such GPU that no claim
/// holds now is marked dirty, so it is offered again only after a verified scrub. Best effort: without the claim on
/// the API server there is nothing to go on.
/// </summary>
internal sealed partial class UnknownClaimRelease(IResourceApi api, DeviceInventory inventory, ClaimJournal journal, PipelineContext context, ILogger logger)
{
    public async Task MarkDevicesDirtyAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        ResourceClaimModel? model;
        try
        {
            model = await api.GetClaimAsync(claim.Namespace, claim.Name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
        {
            LogUnknownClaimUnchecked(logger, claim.Namespace, claim.Name, claim.Uid, ex.Message);
            return;
        }

        if (model?.Allocation is null || !string.Equals(model.Uid, claim.Uid, StringComparison.Ordinal))
        {
            return;
        }

        var marked = new List<string>();
        foreach (var name in AllocatedClaim.ResultsOf(model.Allocation, context.Plugin.DriverName, pool: context.Plugin.NodeName).Select(r => r.Device).Distinct(StringComparer.Ordinal))
        {
            if (inventory.Get(name) is { State: DeviceState.Clean or DeviceState.Unknown })
            {
                try
                {
                    inventory.Withdraw(name, WithdrawalReason.VramDirty, $"released by claim {claim.Uid}, which this node had no record of");
                    marked.Add(name);
                }
                catch (InvalidOperationException)
                {
                    // Reserved for another claim meanwhile: it was clean then, and that claim's release scrubs it.
                }
            }
        }

        if (marked.Count > 0)
        {
            await journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            LogUnknownClaimDevicesDirty(logger, claim.Namespace, claim.Name, claim.Uid, string.Join(",", marked));
        }
    }
}
