using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Nvml.Backends;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Health;

public sealed partial class GpuHealthMonitor
{
    [LoggerMessage(EventId = EventIds.GpuHealthMonitor.Unhealthy, Level = LogLevel.Warning, Message = "GPU {Device} is unhealthy: {Reason} ({Kind}); withdrawing it from scheduling")]
    private static partial void LogUnhealthy(ILogger logger, string device, string reason, string kind);

    [LoggerMessage(EventId = EventIds.GpuHealthMonitor.NonFatal, Level = LogLevel.Information, Message = "GPU {Device} reported a non-fatal health event: {Reason}")]
    private static partial void LogNonFatal(ILogger logger, string device, string reason);

    [LoggerMessage(EventId = EventIds.GpuHealthMonitor.Recovered, Level = LogLevel.Information, Message = "GPU {Device} recovered: {Description}")]
    private static partial void LogRecovered(ILogger logger, string device, string description);

    [LoggerMessage(EventId = EventIds.GpuHealthMonitor.EnumerateFailed, Level = LogLevel.Error, Message = "Could not enumerate GPUs for health tracking")]
    private static partial void LogEnumerateFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = EventIds.GpuHealthMonitor.WatchFailed, Level = LogLevel.Error, Message = "GPU health event watch failed; retrying in {Delay}")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception, TimeSpan delay);
}
