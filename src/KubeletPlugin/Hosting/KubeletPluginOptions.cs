using SecureDra.Network;

namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>
/// Flags of <c>securedra kubelet-plugin</c>, bound once at start and validated (a bad value is a
/// one-line error and exit code 2). Paths must be identical inside and outside the container.
/// </summary>
public sealed record KubeletPluginOptions
{
    public string DriverName { get; init; } = SecureDra.Api.DriverConstants.DefaultDriverName;
    public string NodeName { get; init; } = "";
    public string? Kubeconfig { get; init; }
    public string KubeletRegistrarDirectoryPath { get; init; } = "/var/lib/kubelet/plugins_registry";
    public string KubeletPluginsDirectoryPath { get; init; } = "/var/lib/kubelet/plugins";
    public string CdiRoot { get; init; } = "/var/run/cdi";
    public string? PodUid { get; init; }
    public string? HttpEndpoint { get; init; }
    public string LogFormat { get; init; } = "json";

    /// <summary>
    /// Where the data dir is when not <c>&lt;plugins dir&gt;/&lt;driver&gt;</c>: the driver proxy keeps its state in its own
    /// directory, because a vendor plugin of the same driver name uses <c>&lt;plugins dir&gt;/&lt;driver&gt;/checkpoint.json</c>.
    /// Null in plugin mode.
    /// </summary>
    public string? DataDirectoryOverride { get; init; }

    /// <summary>
    /// Bind the registration socket under a name starting with '.', which the kubelet's plugin watcher ignores, so
    /// that something else (the driver proxy's registration gate) decides when the kubelet sees it. False in plugin mode.
    /// </summary>
    public bool DeferRegistration { get; init; }

    /// <summary>
    /// Once first ready, give back what start-up needed and the steady calls do not: start-up garbage and the
    /// executable's start-up pages (<see cref="Memory.StartupMemoryTrim"/>). The CLI turns it on by default
    /// (<c>--trim-memory-after-start</c>); off here so hosts built in a shared process (tests, the demo) do not.
    /// </summary>
    public bool TrimMemoryAfterStart { get; init; }

    /// <summary>
    /// After calls, once this long has passed without one, run one compacting GC that gives the GC's free memory back
    /// (<see cref="Memory.IdleMemoryTrim"/>); zero: never. The CLI sets 10 s (<c>--trim-memory-when-idle</c>); zero here
    /// so hosts built in a shared process (tests, the demo) do not collect their whole process.
    /// </summary>
    public TimeSpan TrimMemoryWhenIdle { get; init; }

    /// <summary>Longest <see cref="TrimMemoryWhenIdle"/>: beyond an hour the trim would wait past most idle periods.</summary>
    public static readonly TimeSpan MaxTrimMemoryWhenIdle = TimeSpan.FromHours(1);

    /// <summary>The plugin's own data dir: <c>&lt;plugins dir&gt;/&lt;driver&gt;</c>; holds the DRA socket and the checkpoint.</summary>
    public string PluginDataDirectory => DataDirectoryOverride ?? Path.Combine(KubeletPluginsDirectoryPath, DriverName);

    /// <summary>
    /// Bounds of the TCP probe/metrics listener (<see cref="HttpEndpoint"/>), its own, not the Unix sockets': the
    /// kubelet's probes open a connection per probe and a scraper keeps one or two, so 64 is ample, and a flood of
    /// connections (any pod can reach a pod IP) only evicts idle ones and never takes descriptors from the reserve.
    /// </summary>
    public ListenerLimits HttpLimits { get; init; } = new() { MaxConnections = 64, IdleTimeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// Descriptors kept free of HTTP connections for the plugin's own files: checkpoint and its temp file, CDI specs,
    /// the kubelet's sockets and gRPC streams, GPU device handles, the API-server client, logs, the runtime itself.
    /// A start with <see cref="HttpLimits"/> plus this above RLIMIT_NOFILE is refused.
    /// </summary>
    public int DescriptorReserve { get; init; } = 256;

    /// <summary>
    /// How long an idle Unix-socket connection may stay open: ten years, in effect never. The kubelet keeps one
    /// connection per plugin and treats its loss as the plugin going away (slices wiped 30 s later),
    /// so Kestrel's default of 130 s must not apply. Not <see cref="Timeout.InfiniteTimeSpan"/>:
    /// Kestrel stores that as <see cref="TimeSpan.MaxValue"/> and, measured with Kestrel 10, then drops
    /// an idle HTTP/2 connection within seconds (the deadline arithmetic overflows).
    /// </summary>
    public TimeSpan ConnectionIdleTimeout { get; init; } = TimeSpan.FromDays(3650);

    /// <summary>HTTP/2 PING interval on idle connections, to find dead peers without dropping live ones.</summary>
    public TimeSpan Http2KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a peer may take to answer a PING before its connection is closed.</summary>
    public TimeSpan Http2KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(20);
}
