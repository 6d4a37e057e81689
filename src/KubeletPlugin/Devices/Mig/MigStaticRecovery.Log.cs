using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>Static MIG start-up's log events (IDs in <see cref="EventIds.MigStaticRecovery"/>).</summary>
public sealed partial class MigStaticRecovery
{
    [LoggerMessage(EventId = EventIds.MigStaticRecovery.DoubtMovedToSlices, Level = LogLevel.Warning, Message = "GPU {Device} has no proof of a verified scrub and is in MIG mode: every free memory slice is withdrawn; {Instances} existing MIG instance(s) are scrubbed one by one before they are offered")]
    private static partial void LogDoubtMoved(ILogger logger, string device, int instances);

    [LoggerMessage(EventId = EventIds.MigStaticRecovery.InstanceProven, Level = LogLevel.Information, Message = "Start-up: MIG instance {Device} proven clean: {Detail}")]
    private static partial void LogProven(ILogger logger, string device, string detail);

    [LoggerMessage(EventId = EventIds.MigStaticRecovery.InstanceStillWithdrawn, Level = LogLevel.Warning, Message = "Start-up: MIG instance {Device} stays withdrawn: {Detail}; the retry loop tries again")]
    private static partial void LogStillWithdrawn(ILogger logger, string device, string detail);

    [LoggerMessage(EventId = EventIds.MigStaticRecovery.UncoveredSlices, Level = LogLevel.Warning, Message = "GPU {Device}: memory slices {Slices} have no MIG instance and static mode never creates one; they stay withdrawn until the GPU leaves MIG mode and a whole-GPU scrub verifies it")]
    private static partial void LogUncovered(ILogger logger, string device, string slices);
}
