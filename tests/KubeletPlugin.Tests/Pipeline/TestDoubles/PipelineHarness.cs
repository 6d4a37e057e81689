using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Api.Validation;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Confidential;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

/// <summary>
/// The real pipeline, wired through <c>AddClaimPipeline</c>, over temp directories and the
/// doubles. <see cref="RestartAsync"/> builds a fresh process-equivalent over the same files.
/// </summary>
public sealed class PipelineHarness : IAsyncDisposable
{
    private readonly List<IHostedService> _started = [];

    private readonly TimeProvider? _time;

    private PipelineHarness(string root, int devices, ClaimPipelineOptions options, bool provenClean, TimeProvider? time, IMigBackend? mig = null, IConfidentialComputeBackend? confidential = null, IMigInstanceScrubber? migScrubber = null)
    {
        Root = root;
        _time = time;
        Mig = mig;
        MigScrubber = migScrubber;
        Confidential = confidential;
        Backend = new FakeGpuBackend(Path.Combine(root, "vram"), devices);
        Scrubber = new FakeScrubber(Backend);
        Options = options;
        File.WriteAllText(BootIdPath, "boot-1\n");
        if (provenClean)
        {
            ProvenCleanCheckpoint.WriteAsync(DataDir, Backend.Devices, "boot-1").GetAwaiter().GetResult();
        }

        Provider = Build();
    }

    public string Root { get; }
    public string CdiRoot => Path.Combine(Root, "cdi");
    public string PluginsDir => Path.Combine(Root, "plugins");
    public string DataDir => Path.Combine(PluginsDir, TestClaims.Driver);
    public string CheckpointPath => Path.Combine(DataDir, "checkpoint.json");
    public string BootIdPath => Path.Combine(Root, "boot_id");

    public InMemoryResourceApi Api { get; } = new();

    /// <summary>The MIG backend the pipeline sees; null: none registered (as before MIG support).</summary>
    public IMigBackend? Mig { get; }

    /// <summary>The per-instance scrubber the pipeline sees; null: none registered (a MIG release then stays dirty).</summary>
    public IMigInstanceScrubber? MigScrubber { get; }

    /// <summary>The confidential-computing backend the pipeline sees; null: none registered.</summary>
    public IConfidentialComputeBackend? Confidential { get; }
    public FakeKubeApiClient Kube { get; } = new();
    public FakeGpuBackend Backend { get; }
    public FakeScrubber Scrubber { get; }
    public FakeConfigValidator Validator { get; } = new();
    public RecordingEventRecorder Events { get; } = new();
    public ThrowingCrashInjector Crash { get; } = new();
    public ClaimPipelineOptions Options { get; private set; }
    public ServiceProvider Provider { get; private set; }

    public IClaimPipeline Pipeline => Provider.GetRequiredService<IClaimPipeline>();
    public DeviceInventory Inventory => Provider.GetRequiredService<DeviceInventory>();
    public ResourceSlicePublisher Publisher => Provider.GetRequiredService<ResourceSlicePublisher>();
    public ScrubRetryService ScrubRetry => Provider.GetRequiredService<ScrubRetryService>();
    public ClaimJournal Journal => Provider.GetRequiredService<ClaimJournal>();
    public PipelineStartup Startup => Provider.GetRequiredService<PipelineStartup>();
    public MetricsRegistry Metrics => Provider.GetRequiredService<MetricsRegistry>();

    /// <summary>Checkpoint files written so far, as the plugin's metric reports them.</summary>
    public double CheckpointWrites => Metrics.Counter(ClaimJournal.WritesMetric, "").Value();
    public CdiSpecWriter Cdi => Provider.GetRequiredService<CdiSpecWriter>();

    /// <param name="provenClean">Start like a node this build has run before (a checkpoint records every device Clean); false: a first install.</param>
    /// <param name="parentDirectory">Where the node's files go; default the temp directory (the lifecycle model uses tmpfs: thousands of fsyncs).</param>
    /// <param name="time">The pipeline's clock (its Unprepare budget, backoffs and resyncs); default the system clock.</param>
    public static PipelineHarness Create(int devices = 4, ClaimPipelineOptions? options = null, bool provenClean = true, string? parentDirectory = null, TimeProvider? time = null, IMigBackend? mig = null, IConfidentialComputeBackend? confidential = null, IMigInstanceScrubber? migScrubber = null)
    {
        var root = Path.Combine(parentDirectory ?? Path.GetTempPath(), "securedra-pipeline-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        options ??= new ClaimPipelineOptions();
        options = options with
        {
            BootIdPath = Path.Combine(root, "boot_id"),
            SysfsRoot = Path.Combine(root, "sys"),
            KubernetesMinorVersion = options.KubernetesMinorVersion ?? 35,
            SliceResyncInterval = options.SliceResyncInterval == TimeSpan.FromSeconds(10) ? TimeSpan.FromMilliseconds(200) : options.SliceResyncInterval,
            PublishBackoffInitial = TimeSpan.FromMilliseconds(5),
            PublishBackoffMax = TimeSpan.FromMilliseconds(50),
            ScrubRetryInitial = options.ScrubRetryInitial == TimeSpan.FromSeconds(5) ? TimeSpan.FromMilliseconds(20) : options.ScrubRetryInitial,
            ScrubRetryMax = options.ScrubRetryMax == TimeSpan.FromMinutes(5) ? TimeSpan.FromMilliseconds(200) : options.ScrubRetryMax,
        };
        return new PipelineHarness(root, devices, options, provenClean, time, mig, confidential, migScrubber);
    }

    public void Reconfigure(Func<ClaimPipelineOptions, ClaimPipelineOptions> change) => Options = change(Options);

    /// <summary>Runs recovery; with <paramref name="loops"/> also the slice publisher and the scrub retry loop.</summary>
    public async Task StartAsync(bool loops = false)
    {
        await Startup.EnsureStartedAsync(CancellationToken.None);
        if (loops)
        {
            foreach (var service in new IHostedService[] { Publisher, ScrubRetry })
            {
                await service.StartAsync(CancellationToken.None);
                _started.Add(service);
            }
        }
    }

    /// <summary>A new "process" over the same directories and the same API server.</summary>
    /// <param name="whileStopped">Runs between the old process's end and the new one's start (a test puts the disk back as it was at a crash).</param>
    public async Task RestartAsync(bool loops = false, Action? whileStopped = null)
    {
        await StopAsync();
        whileStopped?.Invoke();
        Provider = Build();
        await StartAsync(loops);
    }

    public async Task StopAsync()
    {
        foreach (var service in _started)
        {
            await service.StopAsync(CancellationToken.None);
        }

        _started.Clear();
        await Provider.DisposeAsync();
    }

    public IReadOnlyList<string> CdiFiles() =>
        Directory.Exists(CdiRoot) ? [.. Directory.EnumerateFileSystemEntries(CdiRoot).Select(Path.GetFileName).Order(StringComparer.Ordinal)!] : [];

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private ServiceProvider Build()
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(new KubeletPluginOptions
        {
            DriverName = TestClaims.Driver,
            NodeName = TestClaims.Node,
            CdiRoot = CdiRoot,
            KubeletPluginsDirectoryPath = PluginsDir,
        });
        services.AddSingleton<IResourceApi>(Api);
        services.AddSingleton<IKubeApiClient>(Kube);
        services.AddSingleton<IEventRecorder>(Events);
        services.AddSingleton<IGpuBackend>(Backend);
        if (Mig is not null)
        {
            services.AddSingleton(Mig);
        }

        if (MigScrubber is not null)
        {
            services.AddSingleton(MigScrubber);
        }

        if (Confidential is not null)
        {
            services.AddSingleton(Confidential);
        }
        services.AddSingleton<IVramScrubber>(Scrubber);
        services.AddSingleton<IGpuConfigValidator>(Validator);
        if (_time is not null)
        {
            services.AddSingleton(_time);
        }

        services.AddClaimPipeline(Options);
        services.AddSingleton<ICrashInjector>(Crash);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
