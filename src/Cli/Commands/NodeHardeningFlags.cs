using System.CommandLine;
using SecureDra.Cli.Hosting;
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

    public EnvFlag Require { get; } = EnvFlag.Create(
        "--require-node-hardening",
        "Publish no GPU while a node check finds an open path around DRA (toolkit accepts NVIDIA_VISIBLE_DEVICES, nvidia default runtime, device plugin, old toolkit…); publish once it is closed",
        "REQUIRE_NODE_HARDENING");

    public EnvOption RecheckInterval { get; } = EnvOption.Flag("--node-hardening-recheck-interval", "How often the node checks run again, e.g. 60s", "60s", "NODE_HARDENING_RECHECK_INTERVAL");

    public EnvOption ToolkitConfig { get; } = EnvOption.Flag("--node-toolkit-config", "NVIDIA Container Toolkit config.toml paths, comma-separated, first existing wins", string.Join(',', Defaults.ToolkitConfigPaths), "NODE_TOOLKIT_CONFIG");

    public EnvOption ContainerdConfig { get; } = EnvOption.Flag("--node-containerd-config", "containerd config.toml", Defaults.ContainerdConfigPath, "NODE_CONTAINERD_CONFIG");

    public EnvOption ContainerdDropIns { get; } = EnvOption.Flag("--node-containerd-dropin-dir", "containerd drop-in directory (*.toml)", Defaults.ContainerdDropInDirectory, "NODE_CONTAINERD_DROPIN_DIR");

    public EnvOption CrioDropIns { get; } = EnvOption.Flag("--node-crio-dropin-dir", "CRI-O drop-in directory (*.conf)", Defaults.CrioDropInDirectory, "NODE_CRIO_DROPIN_DIR");

    public EnvOption DevicePluginSocket { get; } = EnvOption.Flag("--node-device-plugin-socket", "The NVIDIA device plugin's kubelet socket", Defaults.DevicePluginSocketPath, "NODE_DEVICE_PLUGIN_SOCKET");

    public EnvOption ToolkitVersionFile { get; } = EnvOption.Flag("--node-toolkit-version-file", "dpkg status file, or a file holding the toolkit version", Defaults.ToolkitVersionFile, "NODE_TOOLKIT_VERSION_FILE");

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
