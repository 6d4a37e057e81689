using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SecureDra.Nvml.Backends.Simulated;

public sealed partial class SimulatedGpuBackend
{
    [LoggerMessage(EventId = EventIds.SimulatedGpuBackend.BadFaultFile, Level = LogLevel.Warning, EventName = "SimulatedFaultFileInvalid", Message = "Ignoring unreadable fault file of {Device}: {Reason}")]
    private static partial void LogBadFaultFile(ILogger logger, string device, string reason);
}
