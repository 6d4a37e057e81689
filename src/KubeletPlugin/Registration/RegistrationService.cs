using Grpc.Core;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Protocol.Registration;

namespace SecureDra.KubeletPlugin.Registration;

/// <summary>
/// <c>pluginregistration.Registration</c> on the registration socket. A rejected registration is
/// recorded (readiness turns red) and acknowledged, so the plugin keeps serving and the kubelet can
/// retry when the socket is seen again.
/// </summary>
public sealed partial class RegistrationService(
    KubeletPluginOptions options,
    PluginSocketLayout layout,
    IEnumerable<AdvertisedService> advertised,
    RegistrationStatusTracker tracker,
    ILogger<RegistrationService> logger) : SecureDra.Protocol.Registration.Registration.RegistrationBase
{
    private readonly string[] _versions = [.. advertised.Select(a => a.Name).Distinct(StringComparer.Ordinal)];

    public override Task<PluginInfo> GetInfo(InfoRequest request, ServerCallContext context)
    {
        var info = new PluginInfo
        {
            Type = SecureDra.Api.DriverConstants.DraPluginType,
            Name = options.DriverName,
            Endpoint = layout.DraSocketPath,
        };
        info.SupportedVersions.Add(_versions);
        LogGetInfo(options.DriverName, layout.DraSocketPath, string.Join(",", _versions));
        return Task.FromResult(info);
    }

    public override Task<RegistrationStatusResponse> NotifyRegistrationStatus(RegistrationStatus request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        tracker.Record(request.PluginRegistered, request.Error);
        if (request.PluginRegistered)
        {
            LogRegistered(options.DriverName, layout.DraSocketPath);
        }
        else
        {
            LogRejected(options.DriverName, request.Error);
        }

        return Task.FromResult(new RegistrationStatusResponse());
    }
}
