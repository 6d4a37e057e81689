using SecureDra.KubeletPlugin.Claims;

namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>
/// Default pipeline until the node pipeline is registered: every claim fails with
/// "not implemented yet". Never a fake success, which would start a pod without its GPU.
/// </summary>
public sealed class NotImplementedClaimPipeline : IClaimPipeline
{
    public const string Message = "not implemented yet";

    public Task<IReadOnlyDictionary<string, ClaimPrepareResult>> PrepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        IReadOnlyDictionary<string, ClaimPrepareResult> results = claims.ToDictionary(c => c.Uid, _ => ClaimPrepareResult.Failed(Message), StringComparer.Ordinal);
        return Task.FromResult(results);
    }

    public Task<IReadOnlyDictionary<string, ClaimUnprepareResult>> UnprepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        IReadOnlyDictionary<string, ClaimUnprepareResult> results = claims.ToDictionary(c => c.Uid, _ => new ClaimUnprepareResult(Message), StringComparer.Ordinal);
        return Task.FromResult(results);
    }
}
