using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Pipeline;

public sealed partial class PipelineStartup
{
    [LoggerMessage(EventId = EventIds.PipelineStartup.Ready, Level = LogLevel.Information, Message = "Pipeline ready: {DeviceCount} device(s), {ClaimCount} claim(s) in the checkpoint")]
    private static partial void LogReady(ILogger logger, int deviceCount, int claimCount);

    [LoggerMessage(EventId = EventIds.PipelineStartup.Rebooted, Level = LogLevel.Warning, Message = "Node rebooted (boot ID {OldBootId} → {NewBootId}): prepared claims are void; their devices stay withdrawn until scrubbed")]
    private static partial void LogRebooted(ILogger logger, string oldBootId, string newBootId);

    [LoggerMessage(EventId = EventIds.PipelineStartup.RolledBack, Level = LogLevel.Information, Message = "Rolled back interrupted prepare of claim {ClaimUid}")]
    private static partial void LogRolledBack(ILogger logger, string claimUid);

    [LoggerMessage(EventId = EventIds.PipelineStartup.KeptDirty, Level = LogLevel.Warning, Message = "Claim {ClaimUid}: devices {Devices} may hold tenant data; withdrawn until a scrub verifies")]
    private static partial void LogKeptDirty(ILogger logger, string claimUid, string devices);

    [LoggerMessage(EventId = EventIds.PipelineStartup.UnknownDevice, Level = LogLevel.Warning, Message = "Checkpoint names device {Device} (claim {ClaimUid}) which this node no longer has")]
    private static partial void LogUnknownDevice(ILogger logger, string device, string claimUid);

    [LoggerMessage(EventId = EventIds.PipelineStartup.Leftover, Level = LogLevel.Information, Message = "Removed leftover file {Path}")]
    private static partial void LogLeftover(ILogger logger, string path);

    [LoggerMessage(EventId = EventIds.PipelineStartup.NoCheckpoint, Level = LogLevel.Warning, Message = "No checkpoint at {Path}: nothing proves the {DeviceCount} device(s) clean; each is scrubbed before it is published")]
    private static partial void LogNoCheckpoint(ILogger logger, string path, int deviceCount);

    [LoggerMessage(EventId = EventIds.PipelineStartup.ScrubbingUnproven, Level = LogLevel.Warning, Message = "Scrubbing devices without proof of a verified scrub before publishing them: {Devices}")]
    private static partial void LogScrubbingUnproven(ILogger logger, string devices);

    [LoggerMessage(EventId = EventIds.PipelineStartup.UnprovenStillDirty, Level = LogLevel.Error, Message = "Start-up scrub of {Device} did not verify ({Detail}); it stays withdrawn until a retry verifies")]
    private static partial void LogUnprovenStillDirty(ILogger logger, string device, string detail);

    [LoggerMessage(EventId = EventIds.PipelineStartup.NoBootId, Level = LogLevel.Warning, Message = "Boot ID file {Path} not readable: reboot detection is off")]
    private static partial void LogNoBootId(ILogger logger, string path);
}
