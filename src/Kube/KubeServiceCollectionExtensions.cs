using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.Kube.Resources;

namespace SecureDra.Kube;

public static class KubeServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IKubeApiClient"/> (from <paramref name="kubeconfig"/>: a kubeconfig path, an
    /// http(s):// server URL, or null for in-cluster), <see cref="IResourceApi"/> (negotiating) and
    /// <see cref="IEventRecorder"/>. The client is created on first use, so a bad kubeconfig fails
    /// there with a <see cref="Config.KubeConfigException"/> naming the field.
    /// </summary>
    public static IServiceCollection AddKubeApiClient(this IServiceCollection services, string? kubeconfig, KubeApiClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IKubeApiClient>(sp => KubeApiClientFactory.Create(
            kubeconfig,
            options,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton(sp => new ResourceApi(sp.GetRequiredService<IKubeApiClient>(), sp.GetService<ILogger<ResourceApi>>()));
        services.TryAddSingleton<IResourceApi>(sp => sp.GetRequiredService<ResourceApi>());
        services.TryAddSingleton(new EventRecorderOptions());
        services.TryAddSingleton<IEventRecorder>(sp => new KubeEventRecorder(
            sp.GetRequiredService<IKubeApiClient>(),
            sp.GetRequiredService<EventRecorderOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<KubeEventRecorder>>()));
        return services;
    }
}
