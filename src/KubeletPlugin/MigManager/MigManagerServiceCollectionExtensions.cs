using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>The plugin's wiring for <c>--mig-manager-socket</c>.</summary>
public static class MigManagerServiceCollectionExtensions
{
    /// <summary>
    /// MIG calls and per-instance scrubs go to the MIG manager: <see cref="IMigBackend"/> and
    /// <see cref="IMigInstanceScrubber"/> become <see cref="RemoteMigBackend"/> and <see cref="RemoteMigInstanceScrubber"/>.
    /// Call before <c>AddGpuLayer</c>, whose in-process registrations then stand aside (TryAdd).
    /// </summary>
    public static IServiceCollection AddMigManagerClient(this IServiceCollection services, MigManagerClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MetricsRegistry>();
        services.AddSingleton(options);
        services.AddSingleton(sp => new MigManagerClient(options, sp.GetRequiredService<MetricsRegistry>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<MigManagerClient>>()));
        services.AddSingleton<IMigBackend>(sp => new RemoteMigBackend(sp.GetRequiredService<MigManagerClient>()));
        services.AddSingleton<IMigInstanceScrubber>(sp => new RemoteMigInstanceScrubber(sp.GetRequiredService<MigManagerClient>(), sp.GetRequiredService<GpuBackendOptions>(), sp.GetRequiredService<ScrubMetrics>()));
        return services;
    }

    /// <summary>The monitor that withdraws MIG devices while the manager does not answer; after the claim pipeline, so start-up has configured the partitions.</summary>
    public static IServiceCollection AddMigManagerMonitor(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<MigManagerMonitor>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<MigManagerMonitor>());
        return services;
    }
}
