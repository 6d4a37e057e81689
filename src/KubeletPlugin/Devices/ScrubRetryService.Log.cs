using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>The retry loop's log events (IDs in <see cref="EventIds.ScrubRetryService"/>).</summary>
public sealed partial class ScrubRetryService
{
    [LoggerMessage(EventId = EventIds.ScrubRetryService.MigCheckFailed, Level = LogLevel.Warning, Message = "Could not read the GPUs' MIG mode: {Reason}; retried on the next pass")]
    private static partial void LogMigCheckFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.ScrubRetryService.Returned, Level = LogLevel.Information, Message = "Device {Device} scrubbed and verified after {Attempts} retry attempt(s); returned to scheduling")]
    private static partial void LogReturned(ILogger logger, string device, int attempts);

    [LoggerMessage(EventId = EventIds.ScrubRetryService.StillDirty, Level = LogLevel.Warning, Message = "Device {Device} still dirty after retry {Attempts}: {Detail}; next attempt in {DelaySeconds} s")]
    private static partial void LogStillDirty(ILogger logger, string device, int attempts, string detail, double delaySeconds);

    [LoggerMessage(EventId = EventIds.ScrubRetryService.DoubtMovedToSlices, Level = LogLevel.Warning, Message = "GPU {Device} is in MIG mode and lost its proof of a verified scrub: every free memory slice is withdrawn until the MIG instance over it is scrubbed")]
    private static partial void LogDoubtMoved(ILogger logger, string device);
}
