using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Nvml.Native;
using SecureDra.Nvml.Native.Nvml;

namespace SecureDra.Nvml.Backends.Nvidia;

public sealed partial class NvidiaGpuBackend
{
    [LoggerMessage(EventId = EventIds.NvidiaGpuBackend.NoEvents, Level = LogLevel.Warning, EventName = "NvmlEventsUnsupported", Message = "{Device} supports neither Xid nor ECC events; its health is not watched")]
    private static partial void LogNoEvents(ILogger logger, string device);

    [LoggerMessage(EventId = EventIds.NvidiaGpuBackend.ApplicationXid, Level = LogLevel.Information, EventName = "ApplicationXid", Message = "{Device} reported application Xid {Xid}; not a device fault")]
    private static partial void LogApplicationXid(ILogger logger, string device, ulong xid);

    [LoggerMessage(EventId = EventIds.NvidiaGpuBackend.WatchFailed, Level = LogLevel.Error, EventName = "NvmlHealthWatchFailed", Message = "NVML health watch stopped: {Reason}")]
    private static partial void LogWatchFailed(ILogger logger, string reason);
}
