using Grpc.Core;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Proxy;

public sealed partial class ProxyClaimPipeline
{
    [LoggerMessage(EventId = EventIds.ProxyClaimPipeline.Prepared, Level = LogLevel.Information, Message = "Proxy prepared claim {Namespace}/{Name} ({ClaimUid}) at the vendor: GPUs {Devices}")]
    private partial void LogPrepared(string @namespace, string name, string claimUid, string devices);

    [LoggerMessage(EventId = EventIds.ProxyClaimPipeline.PrepareFailed, Level = LogLevel.Warning, Message = "Proxy refused Prepare of claim {Namespace}/{Name} ({ClaimUid}): {Reason}")]
    private partial void LogPrepareFailed(string @namespace, string name, string claimUid, string reason);

    [LoggerMessage(EventId = EventIds.ProxyClaimPipeline.ConfigRejected, Level = LogLevel.Warning, Message = "Opaque config of claim {Namespace}/{Name} ({ClaimUid}) for the vendor rejected: {Errors}")]
    private partial void LogConfigRejected(string @namespace, string name, string claimUid, string errors);

    [LoggerMessage(EventId = EventIds.ProxyClaimPipeline.UnrequestedAnswer, Level = LogLevel.Error, Message = "Vendor answered Prepare for unrequested claim {ClaimUid}; dropped")]
    private partial void LogUnrequestedAnswer(string claimUid);

    [LoggerMessage(EventId = EventIds.ProxyClaimPipeline.UndoFailed, Level = LogLevel.Warning, Message = "Undoing Prepare of claims {ClaimUids} at the vendor failed: {Reason}")]
    private partial void LogUndoFailed(string claimUids, string reason);

    [LoggerMessage(EventId = EventIds.ProxyClaimPipeline.Released, Level = LogLevel.Information, Message = "Proxy released claim {Namespace}/{Name} ({ClaimUid}): vendor released it and every GPU scrubbed and verified")]
    private partial void LogReleased(string @namespace, string name, string claimUid);

    [LoggerMessage(EventId = EventIds.ProxyClaimPipeline.Withdrawn, Level = LogLevel.Warning, Message = "Proxy released claim {Namespace}/{Name} ({ClaimUid}); GPUs {Devices} failed their scrub and are refused and withdrawn")]
    private partial void LogWithdrawn(string @namespace, string name, string claimUid, string devices);

    [LoggerMessage(EventId = EventIds.ProxyClaimPipeline.UnprepareFailed, Level = LogLevel.Warning, Message = "Proxy Unprepare of claim {Namespace}/{Name} ({ClaimUid}) failed: {Reason}")]
    private partial void LogUnprepareFailed(string @namespace, string name, string claimUid, string reason);
}
