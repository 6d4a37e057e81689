using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.MigManager;

public sealed partial class PeerCredentialGate
{
    [LoggerMessage(EventId = EventIds.MigManager.PeerRefused, Level = LogLevel.Warning,
        Message = "MIG manager refused a connection from pid {Pid} uid {Uid}: only uid {AllowedUid} may call it ({Unlogged} earlier refusal(s) not logged)")]
    private static partial void LogPeerRefused(ILogger logger, int pid, uint uid, uint allowedUid, int unlogged);

    [LoggerMessage(EventId = EventIds.MigManager.NoCredentials, Level = LogLevel.Warning,
        Message = "MIG manager refused a connection whose peer credentials (SO_PEERCRED) could not be read ({Unlogged} earlier refusal(s) not logged)")]
    private static partial void LogNoCredentials(ILogger logger, int unlogged);
}
