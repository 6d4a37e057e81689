using SecureDra.KubeletPlugin.Claims;

namespace SecureDra.KubeletPlugin.Tests;

/// <summary>
/// The test plugin's pipeline when a test registers none (<see cref="TestPlugin"/>): every claim fails with
/// "not implemented yet", so the gRPC and admission layers can be tested without the node pipeline. The
/// product registers no default: a host without the real pipeline fails at start instead of serving this.
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
