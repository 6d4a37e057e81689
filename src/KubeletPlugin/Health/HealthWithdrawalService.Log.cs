using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Health;

public sealed partial class HealthWithdrawalService
{
    [LoggerMessage(EventId = EventIds.HealthWithdrawalService.Withdrawn, Level = LogLevel.Warning, Message = "GPU {Device} withdrawn from scheduling: {Reason}")]
    private static partial void LogWithdrawn(ILogger logger, string device, string reason);

    [LoggerMessage(EventId = EventIds.HealthWithdrawalService.Returned, Level = LogLevel.Information, Message = "GPU {Device} returned to scheduling: health cleared")]
    private static partial void LogReturned(ILogger logger, string device);

    [LoggerMessage(EventId = EventIds.HealthWithdrawalService.Recovered, Level = LogLevel.Information, Message = "GPU {Device} recovered: scrub verified and the device is present")]
    private static partial void LogRecovered(ILogger logger, string device);

    [LoggerMessage(EventId = EventIds.HealthWithdrawalService.PublishPending, Level = LogLevel.Warning, Message = "Withdrawal not yet visible in the ResourceSlices after {Seconds} s; the publisher keeps retrying")]
    private static partial void LogPublishPending(ILogger logger, double seconds);

    [LoggerMessage(EventId = EventIds.HealthWithdrawalService.PassFailed, Level = LogLevel.Error, Message = "Health withdrawal pass failed; retrying")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
