using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Hosting;

public sealed partial class UnixSocketFiles
{
    [LoggerMessage(EventId = EventIds.UnixSocketFiles.RemovedStale, Level = LogLevel.Warning, Message = "Removed stale socket file {SocketPath} left by an earlier run")]
    private partial void LogRemovedStale(string socketPath);

    [LoggerMessage(EventId = EventIds.UnixSocketFiles.Removed, Level = LogLevel.Information, Message = "Removed socket {SocketPath}")]
    private partial void LogRemoved(string socketPath);

    [LoggerMessage(EventId = EventIds.UnixSocketFiles.RemoveFailed, Level = LogLevel.Warning, Message = "Could not remove socket {SocketPath}")]
    private partial void LogRemoveFailed(Exception exception, string socketPath);
}
