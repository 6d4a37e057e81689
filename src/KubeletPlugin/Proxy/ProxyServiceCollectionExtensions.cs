using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Health;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// Wires the driver proxy: the plugin's device inventory, checkpoint, scrub path and retry loop (reused as they are),
/// without the slice publisher or the stale-claim reaper of plugin mode (withdrawals go out as DeviceTaintRules through <see cref="ProxyTaintPublisher"/> when an IDeviceTaintRuleWriter is registered); the vendor registry
/// and the kubelet registration gate; <see cref="ProxyClaimPipeline"/> as the pipeline. The host must register what
/// <c>AddClaimPipeline</c> needs (IResourceApi, IKubeApiClient, IEventRecorder, IGpuBackend, IVramScrubber) and
/// build with <see cref="KubeletPluginOptions.DeferRegistration"/> and a <see cref="KubeletPluginOptions.DataDirectoryOverride"/>.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static class ProxyServiceCollectionExtensions
{
    /// <param name="health">Device health (Xid monitor, the kubelet's health stream keyed by the vendor's devices, merged with the vendor's own stream); null = the defaults.</param>
    public static IServiceCollection AddDriverProxy(this IServiceCollection services, ProxyOptions proxy, ClaimPipelineOptions? pipeline = null, HealthOptions? health = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(proxy);
        if (proxy.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(proxy));
        }

        services.AddNodeDeviceState(pipeline);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MetricsRegistry>();
        services.AddSingleton(proxy);
        services.AddSingleton<ProxyTaintPublisher>();
        services.AddSingleton<ISlicePublication>(sp => sp.GetRequiredService<ProxyTaintPublisher>());
        services.TryAddSingleton<IVendorConfigCheck, RejectingVendorConfigCheck>();
        services.AddSingleton<KubeletRegistrationGate>();
        services.AddSingleton<KubeletRegistryGuard>();
        services.AddSingleton<VendorRegistry>();
        services.AddSingleton<IVendorSource>(sp => sp.GetRequiredService<VendorRegistry>());
        services.AddSingleton<IPluginReadinessCheck>(sp => sp.GetRequiredService<VendorRegistry>());
        services.AddSingleton<IClaimPipeline, ProxyClaimPipeline>();

        // Health: the plugin's tracker and Xid monitor, served by ProxyHealthService (KubeletPluginHost maps it instead of
        // the plugin's stream, whose device names are the proxy's own GPU names, not the vendor's).
        services.AddDeviceHealth(health ?? new HealthOptions());
        services.AddSingleton<VendorHealthWatcher>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<VendorHealthWatcher>());
        services.AddSingleton<ProxyHealthService>();

        // The rival check first: a second registration of the driver stops the proxy before anything else runs.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp => sp.GetRequiredService<KubeletRegistryGuard>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ProxyTaintPublisher>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ScrubRetryService>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<VendorRegistry>());
        return services;
    }
}
