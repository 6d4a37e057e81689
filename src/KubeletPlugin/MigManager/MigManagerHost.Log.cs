using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.MigManager;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static partial class MigManagerHost
{
    [LoggerMessage(EventId = EventIds.MigManager.Listening, Level = LogLevel.Information,
        Message = "MIG manager listening on {Socket} (mode 0600, peer uid {Uid} only, at most {MaxConnections} connections)")]
    private static partial void LogListening(ILogger logger, string socket, uint uid, int maxConnections);
}
