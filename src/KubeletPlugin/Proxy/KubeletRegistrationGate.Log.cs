using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Proxy;

public sealed partial class KubeletRegistrationGate
{
    [LoggerMessage(EventId = EventIds.KubeletRegistrationGate.Published, Level = LogLevel.Information, Message = "Proxy registration published to the kubelet at {RegistrationSocket}")]
    private partial void LogPublished(string registrationSocket);

    [LoggerMessage(EventId = EventIds.KubeletRegistrationGate.Withdrawn, Level = LogLevel.Warning, Message = "Proxy registration at {RegistrationSocket} withdrawn from the kubelet: {Reason}")]
    private partial void LogWithdrawn(string registrationSocket, string reason);
}
