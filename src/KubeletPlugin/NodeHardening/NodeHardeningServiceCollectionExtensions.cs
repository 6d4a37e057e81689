using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Hosting;

namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>
/// Wires the node checks: the monitor (hosted service, /readyz check and, for the slice publisher,
/// the publication gate). Register before the claim pipeline so its first run precedes the first
/// publication. Needs <c>KubeletPluginOptions</c>, <c>MetricsRegistry</c> and <c>NodeEvents</c>
/// (AddClaimPipeline registers it: the one writer of Node Events).
/// </summary>
public static class NodeHardeningServiceCollectionExtensions
{
    public static IServiceCollection AddNodeHardening(this IServiceCollection services, NodeHardeningOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(sp => new NodeHardeningChecker(
            NodeHardeningChecker.DefaultChecks(options, sp.GetRequiredService<KubeletPluginOptions>().CdiRoot),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<NodeHardeningMonitor>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<NodeHardeningMonitor>());
        services.AddSingleton<IPluginReadinessCheck>(sp => sp.GetRequiredService<NodeHardeningMonitor>());
        services.AddSingleton<IDevicePublicationGate>(sp => sp.GetRequiredService<NodeHardeningMonitor>());
        return services;
    }
}
