using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Resources;
using SecureDra.Kube.Taints;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Proxy;

public sealed partial class ProxyTaintPublisher
{
    [LoggerMessage(EventId = EventIds.ProxyTaintPublisher.Applied, Level = LogLevel.Warning, Message = "DeviceTaintRule {RuleName} withdraws vendor device {Target} (NoSchedule)")]
    private partial void LogApplied(string target, string ruleName);

    [LoggerMessage(EventId = EventIds.ProxyTaintPublisher.Removed, Level = LogLevel.Information, Message = "DeviceTaintRule {RuleName} on vendor device {Target} removed: its GPU is offered again")]
    private partial void LogRemoved(string target, string ruleName);

    [LoggerMessage(EventId = EventIds.ProxyTaintPublisher.WriteFailed, Level = LogLevel.Error, Message = "DeviceTaintRule write for {Target} failed: {Reason}; the proxy still refuses the GPU and retries")]
    private partial void LogWriteFailed(string target, string reason);

    [LoggerMessage(EventId = EventIds.ProxyTaintPublisher.ReconcileFailed, Level = LogLevel.Error, Message = "DeviceTaintRule reconcile failed: {Reason}; retrying")]
    private partial void LogReconcileFailed(string reason);
}
