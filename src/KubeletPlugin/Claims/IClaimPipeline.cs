namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// Prepare and unprepare, knowing nothing of gRPC. The result holds exactly one entry per
/// distinct requested UID. Implementations never throw for one claim's failure: that claim's
/// entry carries the error and the rest of the batch proceeds.
/// </summary>
public interface IClaimPipeline
{
    Task<IReadOnlyDictionary<string, ClaimPrepareResult>> PrepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken);

    Task<IReadOnlyDictionary<string, ClaimUnprepareResult>> UnprepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken);
}
