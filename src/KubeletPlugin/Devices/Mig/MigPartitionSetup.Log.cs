using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.KubeletPlugin.Devices.Mig;

public sealed partial class MigPartitionSetup
{
    [LoggerMessage(EventId = EventIds.MigPartitionSetup.Partitioned, Level = LogLevel.Information, Message = "GPU {Device} is published as MIG devices ({Mode}): {Count} placement(s)")]
    private static partial void LogPartitioned(ILogger logger, string device, string mode, int count);

    [LoggerMessage(EventId = EventIds.MigPartitionSetup.NotPartitioned, Level = LogLevel.Warning, Message = "GPU {Device} is in MIG mode but is not published as MIG devices ({Reason}); it stays withdrawn (MigModeEnabled)")]
    private static partial void LogNotPartitioned(ILogger logger, string device, string reason);
}
