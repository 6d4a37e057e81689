namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>
/// CRI-O's drop-ins: with the NVIDIA runtime as CRI-O's default, every pod runs under it, and CRI-O
/// copies sandbox (pod) annotations into each container's OCI spec, where the NVIDIA runtime reads
/// <c>cdi.k8s.io/</c> keys without a privilege check.
/// </summary>
public sealed class CrioConfigCheck(NodeHardeningOptions options) : INodeCheck
{
    public string Name => "crio-config";

    public IReadOnlyList<NodeFinding> Run()
    {
        var (config, sources, errors) = DropInSet.Load(options, mainFile: null, options.CrioDropInDirectory, "*.conf");
        if (errors.Count > 0)
        {
            return [.. errors.Select(e => new NodeFinding("crio-config-unreadable", "B1", NodeFindingState.Open, e.Source, $"cannot be checked: {e.Error}", "make the file a readable TOML file under the size limit"))];
        }

        return config is null ? [] : Evaluate(config, string.Join(", ", sources));
    }

    public static IReadOnlyList<NodeFinding> Evaluate(TomlConfig config, string source)
    {
        ArgumentNullException.ThrowIfNull(config);
        var runtime = config.Get("crio", "runtime", "default_runtime");
        return runtime is { Kind: TomlValueKind.String } && runtime.Text.Contains("nvidia", StringComparison.OrdinalIgnoreCase)
            ?
            [
                new NodeFinding("crio-nvidia-default-runtime", "B2", NodeFindingState.Open, source,
                    $"crio.runtime.default_runtime is {runtime.Text}: every pod runs under the NVIDIA runtime, which also reads cdi.k8s.io/ pod annotations CRI-O copies into each container",
                    "set default_runtime = \"crun\" or \"runc\" and use RuntimeClass nvidia for the operator's pods only"),
            ]
            : [];
    }
}
