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

    /// <summary>The plugin's own data dir: <c>&lt;plugins dir&gt;/&lt;driver&gt;</c>; holds the DRA socket and the checkpoint.</summary>
    public string PluginDataDirectory => Path.Combine(KubeletPluginsDirectoryPath, DriverName);
}
