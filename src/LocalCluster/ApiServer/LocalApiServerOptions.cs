namespace SecureDra.LocalCluster.ApiServer;

/// <summary>Options of the in-memory local API server (demo and tests only).</summary>
public sealed class LocalApiServerOptions
{
    /// <summary>host:port to listen on; port 0 picks a free port (see <see cref="LocalApiServer.BaseAddress"/>).</summary>
    public string Listen { get; set; } = "127.0.0.1:0";

    /// <summary>Kubernetes minor version to imitate: 1.32 … 1.36.</summary>
    public string KubernetesVersion { get; set; } = "1.36";

    /// <summary>How many past watch events are kept; watching from an older resourceVersion gets 410 Gone.</summary>
    public int WatchHistoryLimit { get; set; } = 10_000;

    /// <summary>How often a watch that asked for allowWatchBookmarks gets a BOOKMARK with the current resourceVersion.</summary>
    public TimeSpan WatchBookmarkInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>DRADeviceTaints feature gate; null = the version's default (on from 1.36). When off, taints are dropped as a real server drops them.</summary>
    public bool? DeviceTaints { get; set; }

    /// <summary>DRAPartitionableDevices feature gate; null = the version's default (on from 1.36). When off, sharedCounters and consumesCounters are dropped as a real server drops them.</summary>
    public bool? PartitionableDevices { get; set; }

    /// <summary>Largest request body accepted (the real API server's limit is 3 MiB for objects).</summary>
    public int MaxRequestBodyBytes { get; set; } = 3 * 1024 * 1024;

    /// <summary>
    /// Failure injection over HTTP: <c>/_securedra/faults</c> queues error and hang rules for matching requests. Off by
    /// default (the endpoint answers 404); the shipped securedra never turns it on, only tests and the test build do
    /// (docs/shipped-binary.md).
    /// </summary>
    public bool FaultEndpoint { get; set; }

    /// <summary>How many request log entries are kept (oldest dropped first).</summary>
    public int RequestLogLimit { get; set; } = 100_000;
}
