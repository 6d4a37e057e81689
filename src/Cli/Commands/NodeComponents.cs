using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using SecureDra.Cli.Hosting;
using SecureDra.Api;
using SecureDra.Api.Validation;
using SecureDra.Kube;
using SecureDra.Kube.Events;
using SecureDra.Kube.Client;
using SecureDra.KubeletPlugin.Health;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.MigManager;
using SecureDra.KubeletPlugin.NodeHardening;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Proxy;
using SecureDra.Nvml;
using SecureDra.Nvml.Backends;

namespace SecureDra.Cli.Commands;

/// <summary>
/// Everything the node daemon needs besides its sockets: the GPU layer, the Kubernetes client,
/// the strict config validator, the claim pipeline and device health. Shared by
/// <c>kubelet-plugin</c> and <c>demo</c> so the demo runs exactly the production wiring.
/// </summary>
internal sealed record NodeComponents(
    GpuBackendOptions Gpu,
    ClaimPipelineOptions Pipeline,
    HealthOptions Health,
    GpuConfigLimits ConfigLimits)
{
    /// <summary>Parses the node flags; throws ArgumentException or FormatException with a one-line message naming the flag.</summary>
    public static NodeComponents Bind(GpuBackendOptions gpu, string withdrawalMode, string fatalXids, string maxConfigBytes, string? scrubRetryInitial = null, string? unprepareBudget = null, string? kubeRequestTimeout = null)
    {
        var mode = withdrawalMode switch
        {
            "remove-from-slice" => WithdrawalMode.RemoveFromSlice,
            "taint-noschedule" => WithdrawalMode.TaintNoSchedule,
            "taint-noexecute" => WithdrawalMode.TaintNoExecute,
            _ => throw new ArgumentException($"--withdrawal-mode: must be remove-from-slice, taint-noschedule or taint-noexecute, got \"{withdrawalMode}\""),
        };
        if (!int.TryParse(maxConfigBytes, NumberStyles.None, CultureInfo.InvariantCulture, out var maxBytes) || maxBytes < 64 || maxBytes > DriverConstants.OpaqueParametersMaxBytes)
        {
            throw new ArgumentException($"--max-config-bytes: must be an integer from 64 to {DriverConstants.OpaqueParametersMaxBytes} (the API server's own limit), got \"{maxConfigBytes}\"");
        }

        // The NVIDIA backend drops application Xids before the health monitor sees them; an Xid the
        // operator declares fatal must get through, or --fatal-xids 13 would silently do nothing.
        var fatal = FatalXidCatalog.Parse(fatalXids);
        gpu = gpu with { Nvidia = gpu.Nvidia with { ApplicationXids = new FatalXidCatalog(fatal).LetThrough(gpu.Nvidia.ApplicationXids) } };
        var pipeline = TestHooks.Apply(new ClaimPipelineOptions { WithdrawalMode = mode });
        if (!string.IsNullOrEmpty(scrubRetryInitial))
        {
            pipeline = pipeline with { ScrubRetryInitial = FlagParsing.NonZeroDuration("--scrub-retry-initial", scrubRetryInitial, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1)) };
        }

        if (!string.IsNullOrEmpty(unprepareBudget))
        {
            pipeline = pipeline with { UnprepareBudget = FlagParsing.NonZeroDuration("--unprepare-budget", unprepareBudget, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(40)) };
        }

        return new NodeComponents(
            gpu,
            pipeline,
            new HealthOptions { FatalXids = fatal },
            new GpuConfigLimits { MaxBytes = maxBytes })
        {
            KubeClient = string.IsNullOrEmpty(kubeRequestTimeout)
                ? null
                : new KubeApiClientOptions { RequestTimeout = FlagParsing.NonZeroDuration("--kube-request-timeout", kubeRequestTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(5)) },
        };
    }

    /// <summary>Applies <c>--mig-mode</c> (off, static, dynamic); throws ArgumentException naming the flag.</summary>
    public NodeComponents WithMigMode(string migMode) => this with
    {
        Pipeline = Pipeline with
        {
            MigMode = migMode switch
            {
                "off" => KubeletPlugin.Devices.Mig.MigMode.Off,
                "static" => KubeletPlugin.Devices.Mig.MigMode.Static,
                "dynamic" => KubeletPlugin.Devices.Mig.MigMode.Dynamic,
                _ => throw new ArgumentException($"--mig-mode: must be off, static or dynamic, got \"{migMode}\""),
            },
            // Simulated GPUs keep their capability-minor table beside their VRAM files, as the driver keeps it in /proc.
            MigMinorsPath = Gpu.Kind == GpuBackendKind.Simulated
                ? Nvml.Backends.Simulated.SimulatedMigBackend.MinorsPath(Gpu.Simulated.VramDirectory)
                : Pipeline.MigMinorsPath,
        },
    };

    /// <summary>
    /// Applies <c>--mig-manager-socket</c> (after <see cref="WithMigMode"/>): null or empty keeps MIG in process; a
    /// socket needs static or dynamic MIG mode (with MIG off nothing would ever call it). Throws ArgumentException naming the flag.
    /// </summary>
    public NodeComponents WithMigManager(string? socketPath)
    {
        if (string.IsNullOrEmpty(socketPath))
        {
            return this with { MigManager = null };
        }

        if (Pipeline.MigMode == KubeletPlugin.Devices.Mig.MigMode.Off)
        {
            throw new ArgumentException("--mig-manager-socket: needs --mig-mode static or dynamic (with MIG off no MIG device is published, so nothing would call the manager)");
        }

        var options = new KubeletPlugin.MigManager.MigManagerClientOptions { SocketPath = socketPath };
        options.Validate();
        return this with { MigManager = options };
    }

    /// <summary>The MIG manager the plugin delegates MIG work to; null = in process.</summary>
    public KubeletPlugin.MigManager.MigManagerClientOptions? MigManager { get; init; }

    /// <summary>Kubernetes client tunables; null = the client's defaults.</summary>
    public KubeApiClientOptions? KubeClient { get; init; }

    /// <summary>Read-only node checks for paths to a GPU around DRA (and whether they gate publication).</summary>
    public NodeHardeningOptions NodeHardening { get; init; } = new();

    /// <summary>Applies <c>--health-resend-interval</c> and <c>--health-recovery-initial</c> (Go durations such as 10s, 500ms).</summary>
    public NodeComponents WithHealthTimings(string resendInterval, string recoveryInitial)
    {
        var health = Health with
        {
            ResendInterval = FlagParsing.Duration("--health-resend-interval", resendInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(15)),
            RecoveryInitial = FlagParsing.Duration("--health-recovery-initial", recoveryInitial, TimeSpan.FromMilliseconds(10), Health.RecoveryMax),
        };
        health.Validate();
        return this with { Health = health };
    }

    /// <summary>
    /// The driver proxy's wiring: the same GPU layer, Kubernetes client and scrub path as the plugin, with
    /// <see cref="ProxyServiceCollectionExtensions.AddDriverProxy"/> in place of the claim pipeline and slice publisher.
    /// </summary>
    public void RegisterProxy(IServiceCollection services, KubeletPluginOptions plugin, ProxyOptions proxy, SecureDra.Api.Config.Nvidia.NvidiaConfigPolicy policy)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the driver proxy runs on Linux nodes only");
        }

        services.AddGpuLayer(Gpu);
        services.AddSingleton(new EventRecorderOptions { Component = "securedra-proxy", Host = plugin.NodeName });
        services.AddKubeApiClient(plugin.Kubeconfig, KubeClient);
        services.AddSingleton<ResourceApiReadiness>();
        services.AddHostedService(sp => sp.GetRequiredService<ResourceApiReadiness>());
        services.AddSingleton<IPluginReadinessCheck>(sp => sp.GetRequiredService<ResourceApiReadiness>());
        services.AddSingleton<SecureDra.Kube.Taints.IDeviceTaintRuleWriter>(sp => new SecureDra.Kube.Taints.DeviceTaintRuleWriter(
            sp.GetRequiredService<IKubeApiClient>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<SecureDra.Kube.Taints.DeviceTaintRuleWriter>>()));
        services.AddSingleton<IVendorConfigCheck>(new NvidiaVendorConfigCheck(new SecureDra.Api.Config.Nvidia.NvidiaOpaqueConfigValidator(ConfigLimits), policy));
        services.AddDriverProxy(proxy, Pipeline, Health);
    }

    public void Register(IServiceCollection services, KubeletPluginOptions plugin)
    {
        if (MigManager is not null)
        {
            // Before the GPU layer, whose in-process MIG registrations then stand aside.
            services.AddMigManagerClient(MigManager);
        }

        services.AddGpuLayer(Gpu);
        // Node Events (VramScrubbed / VramScrubFailed) name the reporting node as source.host.
        services.AddSingleton(new EventRecorderOptions { Component = "securedra-kubelet-plugin", Host = plugin.NodeName });
        services.AddKubeApiClient(plugin.Kubeconfig, KubeClient);
        services.AddSingleton<ResourceApiReadiness>();
        services.AddHostedService(sp => sp.GetRequiredService<ResourceApiReadiness>());
        services.AddSingleton<IPluginReadinessCheck>(sp => sp.GetRequiredService<ResourceApiReadiness>());
        services.AddSingleton<IGpuConfigValidator>(new GpuConfigValidator(ConfigLimits));
        // Before the pipeline: the first node check completes before the first slice is published.
        services.AddNodeHardening(NodeHardening);
        services.AddClaimPipeline(Pipeline);
        services.AddDeviceHealth(Health);
        if (MigManager is not null)
        {
            services.AddMigManagerMonitor();
        }
    }
}
