using Grpc.Core;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Protocol.Registration;

namespace SecureDra.KubeletPlugin.Registration;

public sealed partial class RegistrationService
{
    [LoggerMessage(EventId = EventIds.RegistrationService.GetInfo, Level = LogLevel.Debug, Message = "Kubelet asked for plugin info: driver {DriverName}, endpoint {Endpoint}, versions {SupportedVersions}")]
    private partial void LogGetInfo(string driverName, string endpoint, string supportedVersions);

    [LoggerMessage(EventId = EventIds.RegistrationService.Registered, Level = LogLevel.Information, Message = "Kubelet registered driver {DriverName} at {Endpoint}")]
    private partial void LogRegistered(string driverName, string endpoint);

    [LoggerMessage(EventId = EventIds.RegistrationService.Rejected, Level = LogLevel.Error, Message = "Kubelet rejected registration of driver {DriverName}: {RegistrationError}")]
    private partial void LogRejected(string driverName, string registrationError);
}
