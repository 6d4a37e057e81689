namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>
/// Where the node checks read (flags with environment variables, so tests point them at temp dirs)
/// and what they enforce. Every path is read-only and bounded.
/// </summary>
public sealed record NodeHardeningOptions
{
    /// <summary>The lowest toolkit without a known container escape (CVE-2025-23266, CVE-2025-23267).</summary>
    public static readonly Version MinimumToolkitVersion = new(1, 17, 8);

    /// <summary>Toolkit config.toml candidates, first existing wins: the GPU Operator's, then a package install's.</summary>
    public IReadOnlyList<string> ToolkitConfigPaths { get; init; } =
        ["/usr/local/nvidia/toolkit/.config/nvidia-container-runtime/config.toml", "/etc/nvidia-container-runtime/config.toml"];

    public string ContainerdConfigPath { get; init; } = "/etc/containerd/config.toml";

    /// <summary>containerd drop-ins (<c>*.toml</c>, read in name order after the main file; the GPU Operator writes 99-nvidia.toml).</summary>
    public string ContainerdDropInDirectory { get; init; } = "/etc/containerd/conf.d";

    /// <summary>CRI-O drop-ins (<c>*.conf</c>; the GPU Operator writes 99-nvidia.conf).</summary>
    public string CrioDropInDirectory { get; init; } = "/etc/crio/crio.conf.d";

    /// <summary>The NVIDIA device plugin's kubelet socket: present = that plugin hands out the same GPUs.</summary>
    public string DevicePluginSocketPath { get; init; } = "/var/lib/kubelet/device-plugins/nvidia-gpu.sock";

    /// <summary>
    /// Where the toolkit version is read: a dpkg status file (package installs on Debian/Ubuntu) or a
    /// file holding just the version (e.g. written by the node image build). Missing = unknown.
    /// </summary>
    public string ToolkitVersionFile { get; init; } = "/var/lib/dpkg/status";

    /// <summary>Withhold the node's devices from its ResourceSlices while any finding is Open.</summary>
    public bool Require { get; init; }

    public TimeSpan RecheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    public long MaxFileBytes { get; init; } = 256 * 1024;

    /// <summary>dpkg status files hold every package's stanza: a larger bound.</summary>
    public long MaxVersionFileBytes { get; init; } = 16L * 1024 * 1024;

    public int MaxDropIns { get; init; } = 32;

    /// <summary>Throws ArgumentException naming the flag.</summary>
    public void Validate()
    {
        if (RecheckInterval < TimeSpan.FromSeconds(1) || RecheckInterval > TimeSpan.FromHours(24))
        {
            throw new ArgumentException($"--node-hardening-recheck-interval: must be from 1s to 24h, got {RecheckInterval}");
        }

        if (ToolkitConfigPaths.Count is 0 or > 8)
        {
            throw new ArgumentException("--node-toolkit-config: give 1 to 8 comma-separated paths");
        }

        var paths = ToolkitConfigPaths.Select(p => ("--node-toolkit-config", p)).Concat(
        [
            ("--node-containerd-config", ContainerdConfigPath), ("--node-containerd-dropin-dir", ContainerdDropInDirectory),
            ("--node-crio-dropin-dir", CrioDropInDirectory), ("--node-device-plugin-socket", DevicePluginSocketPath),
            ("--node-toolkit-version-file", ToolkitVersionFile),
        ]);
        foreach (var (flag, path) in paths)
        {
            if (!System.IO.Path.IsPathFullyQualified(path) || path.Length > 4096 || path.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException($"{flag}: must be an absolute path, got \"{path}\"");
            }
        }
    }
}
