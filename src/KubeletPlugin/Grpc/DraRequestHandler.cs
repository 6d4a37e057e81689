using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Grpc;

/// <summary>
/// The one implementation behind both DRAPlugin versions: bounds the request, answers every
/// requested UID exactly once (never one that was not requested), and hands admitted claims to
/// <see cref="IClaimPipeline"/>. Too many claims is an InvalidArgument for the whole call.
/// </summary>
public sealed partial class DraRequestHandler
{
    private readonly IClaimPipeline _pipeline;
    private readonly ILogger<DraRequestHandler> _logger;
    private readonly Counter _rejections;

    public DraRequestHandler(IClaimPipeline pipeline, MetricsRegistry metrics, ILogger<DraRequestHandler> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _pipeline = pipeline;
        _logger = logger;
        _rejections = metrics.Counter(
            "securedra_kubelet_claim_rejections_total",
            "Claims refused before reaching the pipeline, by operation and reason.",
            "operation", "reason");
    }

    public Task<IReadOnlyDictionary<string, ClaimPrepareResult>> PrepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken) =>
        HandleAsync("prepare", claims, _pipeline.PrepareAsync, ClaimPrepareResult.Failed, cancellationToken);

    public Task<IReadOnlyDictionary<string, ClaimUnprepareResult>> UnprepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken) =>
        HandleAsync("unprepare", claims, _pipeline.UnprepareAsync, error => new ClaimUnprepareResult(error), cancellationToken);

    /// <summary>
    /// Admits the batch, runs the admitted claims through the pipeline, and builds an answer with
    /// exactly one entry per requested UID: a refusal, the pipeline's result, or an internal error
    /// when the pipeline threw or forgot a claim. Results for UIDs nobody asked about are dropped.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, TResult>> HandleAsync<TResult>(
        string operation,
        IReadOnlyList<ClaimRef> claims,
        Func<IReadOnlyList<ClaimRef>, CancellationToken, Task<IReadOnlyDictionary<string, TResult>>> run,
        Func<string, TResult> failed,
        CancellationToken cancellationToken)
        where TResult : class
    {
        var admission = Admit(operation, claims);
        var results = new Dictionary<string, TResult>(claims.Count, StringComparer.Ordinal);
        foreach (var (uid, rejection) in admission.Rejected)
        {
            results[uid] = failed(rejection.Message);
        }

        if (admission.Admitted.Count == 0)
        {
            return results;
        }

        IReadOnlyDictionary<string, TResult> outcome;
        try
        {
            outcome = await run(admission.Admitted, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPipelineFailed(ex, operation, admission.Admitted.Count);
            outcome = new Dictionary<string, TResult>(StringComparer.Ordinal);
        }

        foreach (var claim in admission.Admitted)
        {
            results[claim.Uid] = outcome.TryGetValue(claim.Uid, out var result) && result is not null
                ? result
                : failed("internal error: the plugin produced no result for this claim (see plugin log)");
        }

        WarnAboutUnrequested(outcome.Keys, results, operation);
        return results;
    }

    private ClaimBatchAdmission Admit(string operation, IReadOnlyList<ClaimRef> claims)
    {
        if (claims.Count > ClaimRequestLimits.MaxClaimsPerRequest)
        {
            _rejections.Inc(operation, "too_many_claims");
            LogTooManyClaims(operation, claims.Count, ClaimRequestLimits.MaxClaimsPerRequest);
            throw new RpcException(new Status(
                StatusCode.InvalidArgument,
                $"claims: {claims.Count.ToString(CultureInfo.InvariantCulture)} claims exceed the limit of {ClaimRequestLimits.MaxClaimsPerRequest.ToString(CultureInfo.InvariantCulture)} per request"));
        }

        var admission = ClaimBatchAdmission.Admit(claims);
        foreach (var (uid, rejection) in admission.Rejected)
        {
            _rejections.Inc(operation, rejection.Reason);
            LogClaimRejected(operation, ClaimBatchAdmission.Quote(uid), rejection.Reason, rejection.Message);
        }

        return admission;
    }

    private void WarnAboutUnrequested<T>(IEnumerable<string> returned, Dictionary<string, T> requested, string operation)
    {
        foreach (var uid in returned)
        {
            if (!requested.ContainsKey(uid))
            {
                LogUnrequestedResult(operation, ClaimBatchAdmission.Quote(uid));
            }
        }
    }
}
