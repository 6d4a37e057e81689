using Microsoft.Extensions.Logging;

namespace SecureDra.LocalCluster.VendorPlugin;

public sealed partial class SimulatedVendorPlugin
{
    [LoggerMessage(EventId = EventIds.SimulatedVendorPlugin.Started, Level = LogLevel.Information, Message = "Simulated vendor plugin {Driver} registered in {RegistrySocket}, DRA endpoint {Endpoint}, {Devices} devices published")]
    private static partial void LogStarted(ILogger logger, string driver, string registrySocket, string endpoint, int devices);

    [LoggerMessage(EventId = EventIds.SimulatedVendorPlugin.Prepared, Level = LogLevel.Information, Message = "Simulated vendor prepared claim {ClaimUid}: {Devices}")]
    private static partial void LogPrepared(ILogger logger, string claimUid, string devices);

    [LoggerMessage(EventId = EventIds.SimulatedVendorPlugin.Unprepared, Level = LogLevel.Information, Message = "Simulated vendor unprepared claim {ClaimUid} (like real vendors it does not clear GPU memory)")]
    private static partial void LogUnprepared(ILogger logger, string claimUid);
}
