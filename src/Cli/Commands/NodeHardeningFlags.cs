using System.CommandLine;
using SecureDra.Cli.Hosting;
using SecureDra.Controller.Hosting;
using SecureDra.KubeletPlugin.NodeHardening;

namespace SecureDra.Cli.Commands;

/// <summary>
/// The node hardening flags of <c>kubelet-plugin</c> (each also an environment variable): where the
/// read-only checks find the toolkit, containerd and CRI-O configs, the device-plugin socket and the
/// toolkit version, how often they re-check, and <c>--require-node-hardening</c>.
/// <see cref="Bind"/> throws <see cref="ArgumentException"/> with a one-line message naming the flag.
/// </summary>
internal sealed class NodeHardeningFlags
{
    private static readonly NodeHardeningOptions Defaults = new();

    public Option<bool> Require { get; } = new("--require-node-hardening")
    {
        Description = "Publish no GPU while a node check finds an open path around DRA (toolkit accepts NVIDIA_VISIBLE_DEVICES, nvidia default runtime, device plugin, old toolkit…); publish once it is closed (env REQUIRE_NODE_HARDENING)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("REQUIRE_NODE_HARDENING") is "true" or "1",
    };

    public Option<string> RecheckInterval { get; } = EnvOption.Create("--node-hardening-recheck-interval", "NODE_HARDENING_RECHECK_INTERVAL", "How often the node checks run again, e.g. 60s", "60s");

    public Option<string> ToolkitConfig { get; } = EnvOption.Create("--node-toolkit-config", "NODE_TOOLKIT_CONFIG", "NVIDIA Container Toolkit config.toml paths, comma-separated, first existing wins", string.Join(',', Defaults.ToolkitConfigPaths));

    public Option<string> ContainerdConfig { get; } = EnvOption.Create("--node-containerd-config", "NODE_CONTAINERD_CONFIG", "containerd config.toml", Defaults.ContainerdConfigPath);

    public Option<string> ContainerdDropIns { get; } = EnvOption.Create("--node-containerd-dropin-dir", "NODE_CONTAINERD_DROPIN_DIR", "containerd drop-in directory (*.toml)", Defaults.ContainerdDropInDirectory);

    public Option<string> CrioDropIns { get; } = EnvOption.Create("--node-crio-dropin-dir", "NODE_CRIO_DROPIN_DIR", "CRI-O drop-in directory (*.conf)", Defaults.CrioDropInDirectory);

    public Option<string> DevicePluginSocket { get; } = EnvOption.Create("--node-device-plugin-socket", "NODE_DEVICE_PLUGIN_SOCKET", "The NVIDIA device plugin's kubelet socket", Defaults.DevicePluginSocketPath);

    public Option<string> ToolkitVersionFile { get; } = EnvOption.Create("--node-toolkit-version-file", "NODE_TOOLKIT_VERSION_FILE", "dpkg status file, or a file holding the toolkit version", Defaults.ToolkitVersionFile);

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in new Option[] { Require, RecheckInterval, ToolkitConfig, ContainerdConfig, ContainerdDropIns, CrioDropIns, DevicePluginSocket, ToolkitVersionFile })
        {
            command.Options.Add(option);
        }
    }

    public NodeHardeningOptions Bind(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var options = new NodeHardeningOptions
        {
            Require = parseResult.GetValue(Require),
            RecheckInterval = FlagParsing.Duration("--node-hardening-recheck-interval", parseResult.GetValue(RecheckInterval)!, TimeSpan.FromSeconds(1), TimeSpan.FromHours(24)),
            ToolkitConfigPaths = [.. parseResult.GetValue(ToolkitConfig)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            ContainerdConfigPath = parseResult.GetValue(ContainerdConfig)!,
            ContainerdDropInDirectory = parseResult.GetValue(ContainerdDropIns)!,
            CrioDropInDirectory = parseResult.GetValue(CrioDropIns)!,
            DevicePluginSocketPath = parseResult.GetValue(DevicePluginSocket)!,
            ToolkitVersionFile = parseResult.GetValue(ToolkitVersionFile)!,
        };
        options.Validate();
        return options;
    }
}
