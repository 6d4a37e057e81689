using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Claims;

internal sealed partial class UnknownClaimRelease
{
    [LoggerMessage(EventId = EventIds.ClaimPipeline.UnknownClaimDevicesDirty, Level = LogLevel.Warning, Message = "Unprepare of claim {Namespace}/{Name} ({ClaimUid}), which this node had no record of: its devices {Devices} may hold its data and are withdrawn until a scrub verifies")]
    private static partial void LogUnknownClaimDevicesDirty(ILogger logger, string @namespace, string name, string claimUid, string devices);

    [LoggerMessage(EventId = EventIds.ClaimPipeline.UnknownClaimUnchecked, Level = LogLevel.Warning, Message = "Unprepare of claim {Namespace}/{Name} ({ClaimUid}), which this node had no record of: could not read it from the API server ({Reason}); its devices are not known")]
    private static partial void LogUnknownClaimUnchecked(ILogger logger, string @namespace, string name, string claimUid, string reason);
}
