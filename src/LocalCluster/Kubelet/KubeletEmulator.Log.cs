using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Protocol.Registration;

namespace SecureDra.LocalCluster.Kubelet;

public sealed partial class KubeletEmulator
{
    [LoggerMessage(EventId = EventIds.KubeletEmulator.Registered, Level = LogLevel.Information, Message = "Emulated kubelet registered driver {DriverName} at {Endpoint} using {Service} (kubelet {KubeletVersion})")]
    private partial void LogRegistered(string driverName, string endpoint, string service, string kubeletVersion);

    [LoggerMessage(EventId = EventIds.KubeletEmulator.Refused, Level = LogLevel.Warning, Message = "Emulated kubelet refused plugin at {RegistrationSocket}: {Reason}")]
    private partial void LogRefused(string registrationSocket, string reason);

    [LoggerMessage(EventId = EventIds.KubeletEmulator.Deregistered, Level = LogLevel.Information, Message = "Emulated kubelet deregistered driver {DriverName}: {RegistrationSocket} removed")]
    private partial void LogDeregistered(string driverName, string registrationSocket);

    [LoggerMessage(EventId = EventIds.KubeletEmulator.NotifyFailed, Level = LogLevel.Warning, Message = "NotifyRegistrationStatus failed: {Detail}")]
    private partial void LogNotifyFailed(string detail);

    [LoggerMessage(EventId = EventIds.KubeletEmulator.EventQueueFull, Level = LogLevel.Warning, Message = "Emulated kubelet's registrar event queue is full ({Capacity} events); rescanning the directory instead")]
    private partial void LogEventQueueFull(int capacity);
}
