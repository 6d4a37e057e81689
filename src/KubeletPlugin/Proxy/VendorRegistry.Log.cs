using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Observability.Metrics;
using SecureDra.Protocol.Registration;

namespace SecureDra.KubeletPlugin.Proxy;

public sealed partial class VendorRegistry
{
    [LoggerMessage(EventId = EventIds.VendorRegistry.Accepted, Level = LogLevel.Information, Message = "Vendor plugin {DriverName} accepted: endpoint {Endpoint}, DRA {Version}, registered at {RegistrationSocket}")]
    private partial void LogAccepted(string driverName, string endpoint, string version, string registrationSocket);

    [LoggerMessage(EventId = EventIds.VendorRegistry.Refused, Level = LogLevel.Warning, Message = "Vendor registration at {RegistrationSocket} refused: {Reason}")]
    private partial void LogRefused(string registrationSocket, string reason);

    [LoggerMessage(EventId = EventIds.VendorRegistry.GetInfoFailed, Level = LogLevel.Warning, Message = "GetInfo on vendor registration {RegistrationSocket} failed: {Code}: {Detail}")]
    private partial void LogGetInfoFailed(string registrationSocket, string code, string detail);

    [LoggerMessage(EventId = EventIds.VendorRegistry.Unreachable, Level = LogLevel.Error, Message = "Vendor plugin at {Endpoint} unreachable for {TimeoutSeconds} s; withdrawing the proxy's kubelet registration")]
    private partial void LogUnreachable(string endpoint, double timeoutSeconds);

    [LoggerMessage(EventId = EventIds.VendorRegistry.ReachableAgain, Level = LogLevel.Information, Message = "Vendor plugin at {Endpoint} answers again")]
    private partial void LogReachableAgain(string endpoint);

    [LoggerMessage(EventId = EventIds.VendorRegistry.NotifyFailed, Level = LogLevel.Warning, Message = "NotifyRegistrationStatus to the vendor failed: {Detail}")]
    private partial void LogNotifyFailed(string detail);

    [LoggerMessage(EventId = EventIds.VendorRegistry.PublishFailed, Level = LogLevel.Error, Message = "Could not publish the proxy's kubelet registration: {Reason}")]
    private partial void LogPublishFailed(string reason);

    [LoggerMessage(EventId = EventIds.VendorRegistry.ReconcileFailed, Level = LogLevel.Error, Message = "Vendor registry reconcile failed; retrying")]
    private partial void LogReconcileFailed(Exception exception);
}
