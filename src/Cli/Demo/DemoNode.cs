using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.Api;
using SecureDra.Cli.Commands;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Simulated;
using Serilog;

namespace SecureDra.Cli.Demo;

/// <summary>
/// The node daemon as the demos run it: the wiring <c>securedra kubelet-plugin</c> and <c>securedra proxy</c> use
/// (<see cref="NodeComponents"/>, with their default flags) on simulated GPUs, logging into the demo's log and serving
/// its metrics on a loopback port the kernel picks (<see cref="DemoMetricsEndpoint"/>).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class DemoNode
{
    /// <summary>The kubelet plugin's options against the demo's API server and directories.</summary>
    public static KubeletPluginOptions PluginOptions(string driverName, string nodeName, string apiServer, string registrar, string plugins, string cdi) => new()
    {
        DriverName = driverName,
        NodeName = nodeName,
        Kubeconfig = apiServer,
        KubeletRegistrarDirectoryPath = registrar,
        KubeletPluginsDirectoryPath = plugins,
        CdiRoot = cdi,
        LogFormat = "json",
    };

    /// <summary>What the subcommands bind from their default flags, on the given simulated GPUs.</summary>
    public static NodeComponents Components(SimulatedGpuOptions simulated) => NodeComponents.Bind(
        new GpuBackendOptions { Kind = GpuBackendKind.Simulated, Simulated = simulated },
        withdrawalMode: "remove-from-slice",
        fatalXids: string.Join(',', KubeletPlugin.Health.FatalXidCatalog.DefaultFatalXids),
        maxConfigBytes: DriverConstants.OpaqueParametersMaxBytes.ToString(CultureInfo.InvariantCulture));

    /// <summary>The host, its logs in <paramref name="logs"/> only; <paramref name="register"/> adds the plugin's or the proxy's services.</summary>
    public static WebApplication Build(KubeletPluginOptions options, Serilog.ILogger logs, Action<IServiceCollection> register) =>
        KubeletPluginHost.Build(options, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddSerilog(logs, dispose: false);
            register(builder.Services);
            DemoMetricsEndpoint.Add(builder);
        });
}
