using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Claims;

internal sealed partial class ClaimAllocationReader
{
    [LoggerMessage(EventId = EventIds.ClaimPipeline.ConfigRejected, Level = LogLevel.Warning, Message = "Opaque config of claim {Namespace}/{Name} ({ClaimUid}) rejected: {Errors}")]
    private static partial void LogConfigRejected(ILogger logger, string @namespace, string name, string claimUid, string errors);
}
