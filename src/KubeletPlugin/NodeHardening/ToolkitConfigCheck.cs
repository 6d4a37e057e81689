namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>
/// The NVIDIA Container Toolkit's config.toml (the GPU Operator's copy first, then a package
/// install's): whether unprivileged containers may pick GPUs with NVIDIA_VISIBLE_DEVICES (a missing
/// key means true, the toolkit's default), whether the volume-mount strategy is on, and whether the
/// NVIDIA runtime resolves CDI names from the directory SecureDra writes its per-claim specs to.
/// </summary>
public sealed class ToolkitConfigCheck(NodeHardeningOptions options, string cdiRoot) : INodeCheck
{
    public const string AcceptEnvvarKey = "accept-nvidia-visible-devices-envvar-when-unprivileged";
    public const string AcceptVolumeMountsKey = "accept-nvidia-visible-devices-as-volume-mounts";

    /// <summary>The toolkit's default <c>nvidia-container-runtime.modes.cdi.spec-dirs</c>.</summary>
    public static readonly IReadOnlyList<string> DefaultSpecDirs = ["/etc/cdi", "/var/run/cdi"];

    private const string Fix = "set accept-nvidia-visible-devices-envvar-when-unprivileged = false (GPU Operator: toolkit.env ACCEPT_NVIDIA_VISIBLE_DEVICES_ENVVAR_WHEN_UNPRIVILEGED=false)";

    public string Name => "toolkit-config";

    public IReadOnlyList<NodeFinding> Run()
    {
        foreach (var path in options.ToolkitConfigPaths)
        {
            var file = NodeFileReader.Read(path, options.MaxFileBytes);
            if (!file.Exists)
            {
                continue;
            }

            if (file.Error is not null)
            {
                return [Unreadable(path, file.Error)];
            }

            var parsed = NodeToml.Parse(file.Bytes, path);
            return parsed.Config is null ? [Unreadable(path, parsed.Error!)] : Evaluate(parsed.Config, path, cdiRoot);
        }

        return
        [
            new NodeFinding("toolkit-config-missing", "B1", NodeFindingState.Open, string.Join(", ", options.ToolkitConfigPaths),
                "no NVIDIA Container Toolkit config found; the toolkit's defaults accept NVIDIA_VISIBLE_DEVICES from unprivileged containers",
                $"mount the toolkit's config.toml read-only into the plugin (--node-toolkit-config) and {Fix}"),
        ];
    }

    /// <summary>The rules, on an already parsed file (tests and fuzzing call this directly).</summary>
    public static IReadOnlyList<NodeFinding> Evaluate(TomlConfig config, string source, string cdiRoot)
    {
        ArgumentNullException.ThrowIfNull(config);
        var findings = new List<NodeFinding>();
        var accept = config.Get(AcceptEnvvarKey);
        var accepted = accept is null || accept.Kind != TomlValueKind.Boolean || accept.Bool;
        if (accepted)
        {
            var why = accept is null ? "is not set (the toolkit's default is true)"
                : accept.Kind != TomlValueKind.Boolean ? $"is not a boolean ({accept.Text}); treated as true" : "is true";
            findings.Add(new NodeFinding("toolkit-envvar-accepted", "B1", NodeFindingState.Open, source,
                $"{AcceptEnvvarKey} {why}: any container the NVIDIA runtime runs can take every GPU with NVIDIA_VISIBLE_DEVICES=all", Fix));
        }

        if (config.Get(AcceptVolumeMountsKey) is { Kind: TomlValueKind.Boolean, Bool: true })
        {
            findings.Add(new NodeFinding("toolkit-volume-mounts-accepted", "B8", NodeFindingState.Open, source,
                $"{AcceptVolumeMountsKey} is true: a mount under /var/run/nvidia-container-devices selects GPUs",
                $"set {AcceptVolumeMountsKey} = false"));
        }

        var specDirs = config.Get("nvidia-container-runtime", "modes", "cdi", "spec-dirs")?.Strings ?? DefaultSpecDirs;
        if (NodePaths.Contains(specDirs, cdiRoot))
        {
            findings.Add(new NodeFinding("toolkit-reads-cdi-root", "B1", accepted ? NodeFindingState.Open : NodeFindingState.Advisory, source,
                $"the NVIDIA runtime resolves CDI names from {cdiRoot} (spec-dirs {string.Join(", ", specDirs)}), where SecureDra writes per-claim specs: NVIDIA_VISIBLE_DEVICES=k8s.<driver>/claim=<uid>-gpu-N reaches another tenant's GPU"
                + (accepted ? "" : " (closed while the envvar is not accepted)"),
                $"{Fix}, or run the plugin with --cdi-root set to a directory in containerd's cdi_spec_dirs but not in the toolkit's spec-dirs (docs/hardening.md)"));
        }

        return findings;
    }

    private static NodeFinding Unreadable(string path, string error) =>
        new("toolkit-config-unreadable", "B1", NodeFindingState.Open, path, $"cannot be checked: {error}", "make the file a readable TOML file under the size limit");
}
