using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Claims;

public sealed partial class ClaimPipeline
{
    [LoggerMessage(EventId = EventIds.ClaimPipeline.Prepared, Level = LogLevel.Information, Message = "Prepared claim {Namespace}/{Name} ({ClaimUid}): {Devices}")]
    private static partial void LogPrepared(ILogger logger, string @namespace, string name, string claimUid, string devices);

    [LoggerMessage(EventId = EventIds.ClaimPipeline.PrepareFailed, Level = LogLevel.Warning, Message = "Prepare of claim {Namespace}/{Name} ({ClaimUid}) failed: {Reason}")]
    private static partial void LogPrepareFailed(ILogger logger, string @namespace, string name, string claimUid, string reason);

    [LoggerMessage(EventId = EventIds.ClaimPipeline.ConfigRejected, Level = LogLevel.Warning, Message = "Opaque config of claim {Namespace}/{Name} ({ClaimUid}) rejected: {Errors}")]
    private static partial void LogConfigRejected(ILogger logger, string @namespace, string name, string claimUid, string errors);

    [LoggerMessage(EventId = EventIds.ClaimPipeline.Released, Level = LogLevel.Information, Message = "Released claim {Namespace}/{Name} ({ClaimUid}); every device scrubbed and verified")]
    private static partial void LogReleased(ILogger logger, string @namespace, string name, string claimUid);

    [LoggerMessage(EventId = EventIds.ClaimPipeline.Withdrawn, Level = LogLevel.Warning, Message = "Released claim {Namespace}/{Name} ({ClaimUid}); devices {Devices} failed their scrub and are withdrawn from scheduling")]
    private static partial void LogWithdrawn(ILogger logger, string @namespace, string name, string claimUid, string devices);

    [LoggerMessage(EventId = EventIds.ClaimPipeline.UnknownClaimDevicesDirty, Level = LogLevel.Warning, Message = "Unprepare of claim {Namespace}/{Name} ({ClaimUid}), which this node had no record of: its devices {Devices} may hold its data and are withdrawn until a scrub verifies")]
    private static partial void LogUnknownClaimDevicesDirty(ILogger logger, string @namespace, string name, string claimUid, string devices);

    [LoggerMessage(EventId = EventIds.ClaimPipeline.UnknownClaimUnchecked, Level = LogLevel.Warning, Message = "Unprepare of claim {Namespace}/{Name} ({ClaimUid}), which this node had no record of: could not read it from the API server ({Reason}); its devices are not known")]
    private static partial void LogUnknownClaimUnchecked(ILogger logger, string @namespace, string name, string claimUid, string reason);

    [LoggerMessage(EventId = EventIds.ClaimPipeline.UnprepareFailed, Level = LogLevel.Warning, Message = "Unprepare of claim {Namespace}/{Name} ({ClaimUid}) failed: {Reason}")]
    private static partial void LogUnprepareFailed(ILogger logger, string @namespace, string name, string claimUid, string reason);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.PrepareAbandoned, Level = LogLevel.Warning, Message = "Prepare of claim {ClaimUid} did not complete after creating MIG instances at {Devices}: their memory is withdrawn until each instance is scrubbed and destroyed")]
    private static partial void LogPrepareAbandoned(ILogger logger, string claimUid, string devices);
}
