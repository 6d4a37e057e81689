using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Registration;

namespace SecureDra.KubeletPlugin.Health;

public static class DeviceHealthServiceCollectionExtensions
{
    /// <summary>
    /// Device health: the tracker, the NVML/simulated event monitor and the kubelet health stream.
    /// Advertises <c>v1alpha1.DRAResourceHealth</c> in GetInfo, since the stream carries real data.
    /// Needs the GPU layer and the claim pipeline registered (inventory, withdrawals, scrub runner).
    /// </summary>
    public static IServiceCollection AddDeviceHealth(this IServiceCollection services, HealthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(new FatalXidCatalog(options.FatalXids));
        services.AddSingleton<DeviceHealthTracker>();
        services.AddSingleton(sp => new HealthPoolName(sp.GetRequiredService<KubeletPluginOptions>().NodeName));
        services.AddSingleton<GpuHealthMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<GpuHealthMonitor>());
        services.AddHostedService<HealthWithdrawalService>();
        services.AddSingleton(AdvertisedService.DraResourceHealthV1Alpha1);
        return services;
    }
}
