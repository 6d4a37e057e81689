using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Claims;

internal sealed partial class ClaimRelease
{
    [LoggerMessage(EventId = EventIds.ClaimPipeline.Withdrawn, Level = LogLevel.Warning, Message = "Released claim {Namespace}/{Name} ({ClaimUid}); devices {Devices} failed their scrub and are withdrawn from scheduling")]
    private static partial void LogWithdrawn(ILogger logger, string @namespace, string name, string claimUid, string devices);
}
