using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Claims;

internal sealed partial class PrepareRollback
{
    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.PrepareAbandoned, Level = LogLevel.Warning, Message = "Prepare of claim {ClaimUid} did not complete after creating MIG instances at {Devices}: their memory is withdrawn until each instance is scrubbed and destroyed")]
    private static partial void LogPrepareAbandoned(ILogger logger, string claimUid, string devices);
}
