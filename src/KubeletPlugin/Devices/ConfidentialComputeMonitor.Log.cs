using Microsoft.Extensions.Logging;
using SecureDra.Kube.Events;
using SecureDra.Nvml.Backends.Confidential;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Devices;

public sealed partial class ConfidentialComputeMonitor
{
    [LoggerMessage(EventId = EventIds.ConfidentialComputeMonitor.NotReady, Level = LogLevel.Warning, Message = "Confidential computing is on ({Environment}, devtools mode {DevTools}) and the GPUs are not ready: every GPU is withdrawn (CcNotReady)")]
    private static partial void LogNotReady(ILogger logger, string environment, bool devTools);

    [LoggerMessage(EventId = EventIds.ConfidentialComputeMonitor.Ready, Level = LogLevel.Information, Message = "Confidential computing is on ({Environment}, devtools mode {DevTools}) and the GPUs are ready")]
    private static partial void LogReady(ILogger logger, string environment, bool devTools);

    [LoggerMessage(EventId = EventIds.ConfidentialComputeMonitor.ReadFailed, Level = LogLevel.Warning, Message = "Could not read the confidential-computing state: {Reason}")]
    private static partial void LogReadFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.ConfidentialComputeMonitor.DevToolsOn, Level = LogLevel.Warning, Message = "Confidential computing devtools mode is on ({Environment}): the GPUs' memory protections are relaxed for debugging; published as securedra.io/ccDevToolsMode=true, an audit finding (cc-devtools-mode)")]
    private static partial void LogDevToolsOn(ILogger logger, string environment);

    [LoggerMessage(EventId = EventIds.ConfidentialComputeMonitor.DevToolsOff, Level = LogLevel.Information, Message = "Confidential computing devtools mode is off again")]
    private static partial void LogDevToolsOff(ILogger logger);
}
