using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Grpc;

public sealed partial class DraRequestHandler
{
    [LoggerMessage(EventId = EventIds.DraRequestHandler.ClaimRejected, Level = LogLevel.Warning, Message = "Refused {Operation} claim {ClaimUid}: {Reason}: {Error}")]
    private partial void LogClaimRejected(string operation, string claimUid, string reason, string error);

    [LoggerMessage(EventId = EventIds.DraRequestHandler.TooManyClaims, Level = LogLevel.Warning, Message = "Refused {Operation} call with {ClaimCount} claims, over the limit of {Limit}")]
    private partial void LogTooManyClaims(string operation, int claimCount, int limit);

    [LoggerMessage(EventId = EventIds.DraRequestHandler.PipelineFailed, Level = LogLevel.Error, Message = "Claim pipeline threw during {Operation} of {ClaimCount} claims; each gets an error")]
    private partial void LogPipelineFailed(Exception exception, string operation, int claimCount);

    [LoggerMessage(EventId = EventIds.DraRequestHandler.UnrequestedResult, Level = LogLevel.Error, Message = "Claim pipeline returned a {Operation} result for unrequested claim {ClaimUid}; dropped")]
    private partial void LogUnrequestedResult(string operation, string claimUid);
}
