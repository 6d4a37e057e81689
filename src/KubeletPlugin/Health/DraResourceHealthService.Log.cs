using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Protocol.Health.V1Alpha1;

namespace SecureDra.KubeletPlugin.Health;

public sealed partial class DraResourceHealthService
{
    [LoggerMessage(EventId = EventIds.DraResourceHealthService.StreamOpened, Level = LogLevel.Information, Message = "Health stream opened by {Peer}")]
    private static partial void LogStreamOpened(ILogger logger, string peer);

    [LoggerMessage(EventId = EventIds.DraResourceHealthService.StreamClosed, Level = LogLevel.Information, Message = "Health stream closed for {Peer}")]
    private static partial void LogStreamClosed(ILogger logger, string peer);
}
