using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.State;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>
/// Wires the node pipeline: <see cref="IClaimPipeline"/>, the device inventory (also the health
/// monitor's withdrawal API), the ResourceSlice publisher and the scrub retry loop.
/// The host must register: <c>KubeletPluginOptions</c> (as a singleton or IOptions),
/// <c>IResourceApi</c>, <c>IKubeApiClient</c>, <c>IEventRecorder</c>, <c>IGpuBackend</c>,
/// <c>IVramScrubber</c> and <c>IGpuConfigValidator</c>.
/// </summary>
public static class ClaimPipelineServiceCollectionExtensions
{
    /// <param name="options">Pipeline options; null = defaults. Nothing is read from the environment here: the test build of securedra sets <see cref="ClaimPipelineOptions.CrashAt"/>.</param>
    public static IServiceCollection AddClaimPipeline(this IServiceCollection services, ClaimPipelineOptions? options = null)
    {
        services.AddNodeDeviceState(options);
        services.AddSingleton<ResourceSlicePublisher>();
        services.AddSingleton<ISlicePublication>(sp => sp.GetRequiredService<ResourceSlicePublisher>());
        services.AddSingleton<CdiSpecRestore>();
        services.AddSingleton<IClaimPipeline, ClaimPipeline>();
        services.AddSingleton<StaleClaimReaper>();

        // Start-up first (fails the host on a corrupt checkpoint; AddNodeDeviceState registered it), then the loops.
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ResourceSlicePublisher>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ScrubRetryService>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<StaleClaimReaper>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ConfidentialComputeLoop>());
        return services;
    }

    /// <summary>
    /// The node's device state without a claim pipeline or slice publisher: inventory, checkpoint journal, scrub path,
    /// start-up recovery (as a hosted service) and the scrub retry loop (registered, not hosted: the caller hosts it
    /// after its own loops). Shared by the plugin (<see cref="AddClaimPipeline"/>) and the driver proxy, which
    /// registers its own <see cref="IClaimPipeline"/> and <see cref="ISlicePublication"/>.
    /// </summary>
    public static IServiceCollection AddNodeDeviceState(this IServiceCollection services, ClaimPipelineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        options ??= new ClaimPipelineOptions();
        if (options.CrashAt is { Length: > 0 } crashAt && !CrashPoints.All.Contains(crashAt) && !Proxy.ProxyCrashPoints.All.Contains(crashAt))
        {
            throw new ArgumentException($"crash point {crashAt} does not exist; use one of {string.Join(", ", CrashPoints.All)}", nameof(options));
        }

        if (options.UnprepareBudget <= TimeSpan.Zero || options.UnprepareBudget > TimeSpan.FromSeconds(40))
        {
            throw new ArgumentException($"unprepare budget {options.UnprepareBudget.TotalSeconds} s must be above 0 and at most 40 s (the kubelet gives up after 45 s)", nameof(options));
        }

        if (options.SliceResyncInterval <= TimeSpan.Zero || options.CheckpointMaxBytes < 4096 || options.PublishBackoffInitial <= TimeSpan.Zero || options.ScrubRetryInitial <= TimeSpan.Zero || options.StaleClaimCheckInterval <= TimeSpan.Zero || options.MigModeCheckInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("slice resync interval, backoffs must be positive and the checkpoint limit at least 4096 bytes", nameof(options));
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MetricsRegistry>();
        services.AddSingleton(options);
        services.AddSingleton(sp => new PipelineContext(
            sp.GetService<KubeletPluginOptions>() ?? sp.GetRequiredService<IOptions<KubeletPluginOptions>>().Value,
            sp.GetRequiredService<ClaimPipelineOptions>()));
        services.AddSingleton<ICrashInjector, ProcessCrashInjector>();
        services.AddSingleton<DeviceInventory>();
        services.AddSingleton<ConfidentialComputeAttributes>();
        services.AddSingleton(sp => new SliceDeviceRenderer(new PciTopology(sp.GetRequiredService<ClaimPipelineOptions>().SysfsRoot), sp.GetRequiredService<ConfidentialComputeAttributes>()));
        services.AddSingleton<CdiSpecWriter>();
        services.AddSingleton(sp =>
        {
            var ctx = sp.GetRequiredService<PipelineContext>();
            return new ClaimJournal(new CheckpointFile(ctx.Plugin.PluginDataDirectory, ctx.Options.CheckpointFileName, ctx.Options.CheckpointMaxBytes), sp.GetRequiredService<MetricsRegistry>());
        });
        services.AddSingleton<NodeIdentity>();
        services.AddSingleton<ScrubRunner>();
        services.AddSingleton<NodeEvents>();
        services.AddSingleton<MigModeMonitor>();
        services.AddSingleton<MigInstanceLocator>();
        services.AddSingleton<MigInstanceLifecycle>();
        services.AddSingleton<MigInstanceRecovery>();
        services.AddSingleton<MigStaticRecovery>();
        services.AddSingleton<DeviceScrub>();
        services.AddSingleton<PipelineStartup>();
        services.AddSingleton<MigDeviceRenderer>();
        services.AddSingleton(sp => new MigSlicePublication(
            sp.GetRequiredService<ClaimPipelineOptions>().MigMode,
            sp.GetRequiredService<MigDeviceRenderer>(),
            sp.GetRequiredService<MetricsRegistry>(),
            sp.GetRequiredService<ILogger<MigSlicePublication>>(),
            sp.GetRequiredService<NodeEvents>()));
        services.AddSingleton<IMigSlicePublication>(sp => sp.GetRequiredService<MigSlicePublication>());
        services.AddSingleton<MigPartitionSetup>();
        services.AddSingleton<ConfidentialComputeMonitor>();
        services.AddSingleton<ConfidentialComputeLoop>();
        services.AddSingleton<ScrubRetryService>();
        services.AddHostedService<PipelineStartupService>();
        return services;
    }
}
