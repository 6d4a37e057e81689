using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Protocol.Health.V1Alpha1;

namespace SecureDra.KubeletPlugin.Proxy;

public sealed partial class VendorHealthWatcher
{
    [LoggerMessage(EventId = EventIds.VendorHealthWatcher.Following, Level = LogLevel.Information, Message = "Following the vendor's device health stream at {Endpoint}")]
    private partial void LogFollowing(string endpoint);

    [LoggerMessage(EventId = EventIds.VendorHealthWatcher.StreamEnded, Level = LogLevel.Warning, Message = "The vendor's device health stream ended ({Code}); its reports are dropped until it is back")]
    private partial void LogStreamEnded(string code);
}
