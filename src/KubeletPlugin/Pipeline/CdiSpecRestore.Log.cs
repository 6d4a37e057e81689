using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Pipeline;

public sealed partial class CdiSpecRestore
{
    [LoggerMessage(EventId = EventIds.CdiSpecRestore.Restored, Level = LogLevel.Warning, Message = "CDI spec {File} of prepared claim {Namespace}/{Name} ({ClaimUid}) was {Outcome}: written again from the checkpoint")]
    private static partial void LogRestored(ILogger logger, string @namespace, string name, string claimUid, string file, string outcome);

    [LoggerMessage(EventId = EventIds.CdiSpecRestore.Unrestorable, Level = LogLevel.Error, Message = "CDI spec {File} of prepared claim {Namespace}/{Name} ({ClaimUid}) is missing and cannot be rebuilt from the checkpoint: {Reason}; its containers cannot start until the claim is released and prepared again")]
    private static partial void LogUnrestorable(ILogger logger, string @namespace, string name, string claimUid, string file, string reason);

    [LoggerMessage(EventId = EventIds.CdiSpecRestore.RestoreFailed, Level = LogLevel.Error, Message = "CDI spec {File} of prepared claim {Namespace}/{Name} ({ClaimUid}) is missing or differs and could not be written again at start-up: {Error} (a retried Prepare writes a missing one again)")]
    private static partial void LogRestoreFailed(ILogger logger, string @namespace, string name, string claimUid, string file, string error);

    [LoggerMessage(EventId = EventIds.CdiSpecRestore.InstanceUnreadable, Level = LogLevel.Error, Message = "CDI spec {File} of prepared claim {Namespace}/{Name} ({ClaimUid}) could not be checked or rebuilt: the MIG instance it is built from could not be read: {Error} (a retried Prepare tries again)")]
    private static partial void LogInstanceUnreadable(ILogger logger, string @namespace, string name, string claimUid, string file, string error);

    [LoggerMessage(EventId = EventIds.CdiSpecRestore.StaleRemoved, Level = LogLevel.Error, Message = "CDI spec {File} of prepared claim {Namespace}/{Name} ({ClaimUid}) was removed at start-up: it was built for a MIG instance that is no longer there ({Reason}); its capability nodes could name another instance. The claim's containers cannot start until it is released and prepared again")]
    private static partial void LogStaleRemoved(ILogger logger, string @namespace, string name, string claimUid, string file, string reason);
}
