namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>
/// containerd's config.toml and its drop-ins (name order, later wins): the nvidia runtime as the
/// default for every pod, pod annotations passed to a runtime (CDI/NRI device keys), CDI on or off,
/// whether containerd reads SecureDra's CDI directory, and NRI. Keys are found by name under either
/// config schema (version 2: io.containerd.grpc.v1.cri; version 3: io.containerd.cri.v1.runtime).
/// </summary>
public sealed class ContainerdConfigCheck(NodeHardeningOptions options, string cdiRoot) : INodeCheck
{
    /// <summary>Annotation keys that inject devices (CRI-O/NVIDIA runtime, the toolkit's NRI plugin, NRI's device injector).</summary>
    public static readonly IReadOnlyList<string> DeviceAnnotationSamples =
        ["cdi.k8s.io/x", "nvidia.cdi.k8s.io/container.x", "nvidia.cdi.k8s.io/pod", "devices.noderesource.dev/container.x", "cdi-devices.noderesource.dev/pod", "cdi-devices.nri.io/x"];

    /// <summary>containerd's default <c>cdi_spec_dirs</c>.</summary>
    public static readonly IReadOnlyList<string> DefaultCdiSpecDirs = ["/etc/cdi", "/var/run/cdi"];

    public string Name => "containerd-config";

    public IReadOnlyList<NodeFinding> Run()
    {
        var (config, sources, errors) = DropInSet.Load(options, options.ContainerdConfigPath, options.ContainerdDropInDirectory, "*.toml");
        if (errors.Count > 0)
        {
            return [.. errors.Select(e => new NodeFinding("containerd-config-unreadable", "B1", NodeFindingState.Open, e.Source, $"cannot be checked: {e.Error}", "make the file a readable TOML file under the size limit, with at most the allowed number of drop-ins"))];
        }

        return config is null
            ? [new NodeFinding("containerd-config-missing", "-", NodeFindingState.Advisory, options.ContainerdConfigPath, "no containerd config found (CRI-O node, or a path not mounted into the plugin)", "mount /etc/containerd read-only into the plugin if the node runs containerd")]
            : Evaluate(config, string.Join(", ", sources), cdiRoot);
    }

    public static IReadOnlyList<NodeFinding> Evaluate(TomlConfig config, string source, string cdiRoot)
    {
        ArgumentNullException.ThrowIfNull(config);
        var findings = new List<NodeFinding>();
        if (config.LastWithLastKey("default_runtime_name") is { Kind: TomlValueKind.String } runtime && runtime.Text.Contains("nvidia", StringComparison.OrdinalIgnoreCase))
        {
            findings.Add(new NodeFinding("containerd-nvidia-default-runtime", "B1", NodeFindingState.Open, source,
                $"default_runtime_name is {runtime.Text}: every pod runs under the NVIDIA runtime, with or without a RuntimeClass",
                "set default_runtime_name = \"runc\" (GPU Operator >= 25.10 default; earlier: toolkit.env CONTAINERD_SET_AS_DEFAULT=false) and use RuntimeClass nvidia for the operator's pods only"));
        }

        foreach (var entry in config.WithLastKey("pod_annotations").Where(e => e.Key.Contains("runtimes")))
        {
            var runtimeName = entry.Key.Count >= 2 ? entry.Key[^2] : "?";
            var passing = entry.Value.Strings.Where(p => DeviceAnnotationSamples.Any(s => NodePaths.GlobMatches(p, s))).ToList();
            if (passing.Count > 0)
            {
                findings.Add(new NodeFinding("containerd-device-annotations-passed", "B2", NodeFindingState.Open, source,
                    $"runtime {runtimeName} receives pod annotations {string.Join(", ", passing)}: device-injecting keys (cdi.k8s.io, noderesource.dev) reach the runtime",
                    $"remove those patterns from runtimes.{runtimeName}.pod_annotations"));
            }
        }

        var enableCdi = config.LastWithLastKey("enable_cdi");
        if (enableCdi is { Kind: TomlValueKind.Boolean, Bool: false })
        {
            findings.Add(new NodeFinding("containerd-cdi-disabled", "-", NodeFindingState.Open, source,
                "enable_cdi is false: containerd ignores the CDI devices of every claim SecureDra prepares",
                "set enable_cdi = true (GPU Operator: cdi.enabled=true)"));
        }
        else if (enableCdi is null)
        {
            findings.Add(new NodeFinding("containerd-cdi-unset", "-", NodeFindingState.Advisory, source,
                "enable_cdi is not set: on by default only from containerd 2.0", "set enable_cdi = true explicitly"));
        }

        var specDirs = config.LastWithLastKey("cdi_spec_dirs")?.Strings ?? DefaultCdiSpecDirs;
        if (!NodePaths.Contains(specDirs, cdiRoot))
        {
            findings.Add(new NodeFinding("containerd-cdi-root-not-read", "-", NodeFindingState.Open, source,
                $"cdi_spec_dirs ({string.Join(", ", specDirs)}) does not include {cdiRoot}: containerd cannot find the CDI specs SecureDra writes",
                $"add {cdiRoot} to cdi_spec_dirs or set --cdi-root to one of them"));
        }

        var nriDisable = config.WithLastKey("disable").Where(e => e.Key.Count >= 2 && e.Key[^2] == "io.containerd.nri.v1.nri").Select(e => e.Value).LastOrDefault();
        var version = config.Get("version");
        if (nriDisable is { Kind: TomlValueKind.Boolean, Bool: false } || (nriDisable is null && version is { Kind: TomlValueKind.Integer, Text: "3" }))
        {
            findings.Add(new NodeFinding("containerd-nri-enabled", "B3", NodeFindingState.Advisory, source,
                "NRI is enabled: a device-injecting NRI plugin (the toolkit's, or containerd's device-injector) would honour pod annotations",
                "keep GPU Operator cdi.nriPluginEnabled=false, or rely on the tenant pod policy that denies those annotations"));
        }

        return findings;
    }
}
