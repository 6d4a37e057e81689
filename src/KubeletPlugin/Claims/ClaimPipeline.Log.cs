using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Claims;

public sealed partial class ClaimPipeline
{
    [LoggerMessage(EventId = EventIds.ClaimPipeline.Prepared, Level = LogLevel.Information, Message = "Prepared claim {Namespace}/{Name} ({ClaimUid}): {Devices}")]
    private static partial void LogPrepared(ILogger logger, string @namespace, string name, string claimUid, string devices);

    [LoggerMessage(EventId = EventIds.ClaimPipeline.PrepareFailed, Level = LogLevel.Warning, Message = "Prepare of claim {Namespace}/{Name} ({ClaimUid}) failed: {Reason}")]
    private static partial void LogPrepareFailed(ILogger logger, string @namespace, string name, string claimUid, string reason);

    [LoggerMessage(EventId = EventIds.ClaimPipeline.Released, Level = LogLevel.Information, Message = "Released claim {Namespace}/{Name} ({ClaimUid}); every device scrubbed and verified")]
    private static partial void LogReleased(ILogger logger, string @namespace, string name, string claimUid);

    [LoggerMessage(EventId = EventIds.ClaimPipeline.UnprepareFailed, Level = LogLevel.Warning, Message = "Unprepare of claim {Namespace}/{Name} ({ClaimUid}) failed: {Reason}")]
    private static partial void LogUnprepareFailed(ILogger logger, string @namespace, string name, string claimUid, string reason);
}
