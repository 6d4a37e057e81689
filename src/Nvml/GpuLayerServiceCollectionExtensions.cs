using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Confidential;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Nvidia;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.Nvml;

public static class GpuLayerServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IGpuBackend"/>, <see cref="IMigBackend"/> and <see cref="IConfidentialComputeBackend"/> (NVIDIA or simulated, per <paramref name="options"/>),
    /// <see cref="IVramScrubber"/>, the scrub metrics and <see cref="ScrubberOptions"/> (its
    /// MinCoverage from the options; other fields can be configured with <c>services.Configure</c>).
    /// </summary>
    public static IServiceCollection AddGpuLayer(this IServiceCollection services, GpuBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MetricsRegistry>();
        services.AddLogging();
        services.AddOptions<ScrubberOptions>()
            .Configure(o => o.MinCoverage = options.ScrubMinCoverage)
            .Validate(o =>
            {
                o.Validate();
                return true;
            });
        services.TryAddSingleton(options);
        services.TryAddSingleton<IGpuBackend>(sp => options.Kind switch
        {
            GpuBackendKind.Simulated => new SimulatedGpuBackend(options.Simulated, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<SimulatedGpuBackend>>()),
            _ => new NvidiaGpuBackend(options.Nvidia, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<NvidiaGpuBackend>>()),
        });
        services.TryAddSingleton<IMigBackend>(_ => options.Kind switch
        {
            GpuBackendKind.Simulated => new SimulatedMigBackend(options.Simulated),
            _ => new NvidiaMigBackend(),
        });
        services.TryAddSingleton<IConfidentialComputeBackend>(_ => options.Kind switch
        {
            GpuBackendKind.Simulated => new SimulatedConfidentialComputeBackend(options.Simulated),
            _ => new NvidiaConfidentialComputeBackend(),
        });
        services.TryAddSingleton<ScrubMetrics>();
        services.TryAddSingleton(new MigInstanceScrubberOptions());
        services.TryAddSingleton<ConfidentialComputeMetrics>();
        services.TryAddSingleton<IMigInstanceScrubber>(sp => new MigInstanceScrubber(
            options, sp.GetRequiredService<MigInstanceScrubberOptions>(), sp.GetRequiredService<IMigBackend>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ScrubMetrics>(), sp.GetRequiredService<ILogger<MigInstanceScrubber>>()));
        services.TryAddSingleton<IVramScrubber, VramScrubber>();
        return services;
    }
}
