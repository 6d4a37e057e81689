using SecureDra.Kube.Resources;
using KubeClaimAllocation = SecureDra.Kube.Resources.ClaimAllocation;

namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// A claim as the API server has it now, checked the one way the node daemon and the proxy both need before a
/// Prepare: it exists, it is the claim the kubelet named (same UID, not one deleted and re-created under the name),
/// and it is allocated. Each refusal has one wording, naming the claim and what is wrong.
/// </summary>
internal sealed record AllocatedClaim(ResourceClaimModel Model, KubeClaimAllocation Allocation)
{
    public static async Task<AllocatedClaim> FetchAsync(IResourceApi api, ClaimRef claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(claim);
        var model = await api.GetClaimAsync(claim.Namespace, claim.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name} not found on the API server");
        if (!string.Equals(model.Uid, claim.Uid, StringComparison.Ordinal))
        {
            throw new ClaimPreparationException(
                $"claim {claim.Namespace}/{claim.Name} was replaced (deleted and re-created): uid {model.Uid} on the API server is not the requested {claim.Uid}");
        }

        return model.Allocation is { } allocation
            ? new AllocatedClaim(model, allocation)
            : throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name} is not allocated");
    }

    /// <summary>The results allocated to <paramref name="driver"/>, in pool <paramref name="pool"/> when given.</summary>
    public IEnumerable<AllocationResult> ResultsOf(string driver, string? pool = null) => ResultsOf(Allocation, driver, pool);

    /// <summary>
    /// The one driver/pool filter: the node daemon's pool is its node name; the proxy passes no pool because the vendor
    /// names its own pools and <c>VendorDeviceMap</c> checks them against this node's slices.
    /// </summary>
    public static IEnumerable<AllocationResult> ResultsOf(KubeClaimAllocation allocation, string driver, string? pool = null)
    {
        ArgumentNullException.ThrowIfNull(allocation);
        return allocation.Results.Where(r => r.Driver == driver && (pool is null || r.Pool == pool));
    }
}
