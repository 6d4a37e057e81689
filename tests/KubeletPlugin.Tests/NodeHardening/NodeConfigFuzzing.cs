using SecureDra.KubeletPlugin.NodeHardening;

namespace SecureDra.KubeletPlugin.Tests.NodeHardening;

/// <summary>
/// Entry point for a fuzz target: any bytes, as a node TOML file (every rule evaluated on it) and as
/// a toolkit version file. Must return normally for every input; an exception escaping is a bug.
/// Test code: it lives with the tests that run it, not in the plugin.
/// </summary>
internal static class NodeConfigFuzzing
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        var parsed = NodeToml.Parse(data, "fuzz.toml");
        if (parsed.Config is { } config)
        {
            _ = ToolkitConfigCheck.Evaluate(config, "fuzz.toml", "/var/run/cdi");
            _ = ContainerdConfigCheck.Evaluate(config, "fuzz.toml", "/var/run/cdi");
            _ = CrioConfigCheck.Evaluate(config, "fuzz.toml");
        }

        _ = ToolkitVersionCheck.Parse(data);
    }
}
