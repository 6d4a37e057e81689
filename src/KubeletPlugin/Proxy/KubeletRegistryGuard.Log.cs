using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Observability.Metrics;
using SecureDra.Protocol.Registration;

namespace SecureDra.KubeletPlugin.Proxy;

public sealed partial class KubeletRegistryGuard
{
    [LoggerMessage(EventId = EventIds.KubeletRegistryGuard.SlowRegistration, Level = LogLevel.Warning, Message = "{RegistrationSocket} in the kubelet's registry accepts connections but did not answer GetInfo ({Code}, attempt {Attempt} of 3)")]
    private partial void LogSlowRegistration(string registrationSocket, string code, int attempt);

    [LoggerMessage(EventId = EventIds.KubeletRegistryGuard.Rival, Level = LogLevel.Critical, Message = "{RegistrationSocket} in the kubelet's registry registers driver {DriverName} besides the proxy; calls would bypass the proxy")]
    private partial void LogRival(string registrationSocket, string driverName);
}
