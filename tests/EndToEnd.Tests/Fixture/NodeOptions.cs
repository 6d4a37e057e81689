using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.EndToEnd.Tests.Fixture;

/// <summary>Shape of one end-to-end node: API server version and kind, emulated kubelet, simulated GPUs, extra plugin flags.</summary>
internal sealed record NodeOptions
{
    /// <summary>Kubernetes version the API server imitates; 1.33 serves resource.k8s.io v1beta2 (used), 1.34+ serves v1.</summary>
    public string KubernetesVersion { get; init; } = "1.34";

    /// <summary>Run <c>securedra local-apiserver</c> as its own process instead of in-process (no in-process hooks then).</summary>
    public bool ApiServerProcess { get; init; }

    public KubeletProfile Kubelet { get; init; } = KubeletProfile.V1_34;

    public int Gpus { get; init; } = 2;

    public string Memory { get; init; } = "4Mi";

    public IReadOnlyList<string> ExtraPluginArgs { get; init; } = [];

    /// <summary>Environment of every plugin process this node starts (test hooks such as SECUREDRA_STALE_CLAIM_CHECK_INTERVAL_MS).</summary>
    public IReadOnlyDictionary<string, string> PluginEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>RLIMIT_NOFILE (soft and hard) the plugin process runs under, via prlimit; null: the runner's.</summary>
    public int? PluginNoFileLimit { get; init; }

    /// <summary>Simulated GPU fault files (device name → faults.json content) written before the first plugin process starts (MIG mode, for one).</summary>
    public IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonObject> GpuFaults { get; init; } = new Dictionary<string, System.Text.Json.Nodes.JsonObject>();

    /// <summary>SECUREDRA_CRASH_AT for the first plugin process only.</summary>
    public string? CrashAt { get; init; }
}
