using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Api;
using SecureDra.Cli.Hosting;
using SecureDra.KubeletPlugin.Hosting;
using Serilog;

namespace SecureDra.Cli.Commands;

internal static class KubeletPluginCommand
{
    public static Command Create() => Create(configure: null);

    /// <param name="configure">Hook for the node pipeline: registers the real <c>IClaimPipeline</c> and its background services.</param>
    public static Command Create(Action<WebApplicationBuilder>? configure)
    {
        var driverName = EnvOption.Create("--driver-name", "DRIVER_NAME", "DRA driver name (DNS subdomain, at most 63 characters)", DriverConstants.DefaultDriverName);
        var nodeName = EnvOption.CreateOptional("--node-name", "NODE_NAME", "Name of this node (required)");
        var kubeconfig = EnvOption.CreateOptional("--kubeconfig", "KUBECONFIG", "Kubeconfig file; in-cluster config when absent");
        var registrarDir = EnvOption.Create("--kubelet-registrar-directory-path", "KUBELET_REGISTRAR_DIRECTORY_PATH", "Kubelet plugin registration directory", "/var/lib/kubelet/plugins_registry");
        var pluginsDir = EnvOption.Create("--kubelet-plugins-directory-path", "KUBELET_PLUGINS_DIRECTORY_PATH", "Kubelet plugins directory; the DRA socket goes in <dir>/<driver>/", "/var/lib/kubelet/plugins");
        var cdiRoot = EnvOption.Create("--cdi-root", "CDI_ROOT", "Directory for CDI specs", "/var/run/cdi");
        var podUid = EnvOption.CreateOptional("--pod-uid", "POD_UID", "UID of this pod; enables rolling-update socket names");
        var httpEndpoint = EnvOption.CreateOptional("--http-endpoint", "HTTP_ENDPOINT", "IP:port serving /healthz, /readyz and /metrics, e.g. 127.0.0.1:8080");
        var logFormat = LogSetup.CreateOption();

        var command = new Command("kubelet-plugin", "Run the node daemon: kubelet registration, DRA gRPC, ResourceSlices, prepare/unprepare with VRAM scrub.")
        {
            driverName, nodeName, kubeconfig, registrarDir, pluginsDir, cdiRoot, podUid, httpEndpoint, logFormat,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (OperatingSystem.IsWindows())
            {
                return CliInvocation.UsageError(command, "runs on Linux nodes only");
            }

            var options = new KubeletPluginOptions
            {
                DriverName = parseResult.GetValue(driverName)!,
                NodeName = parseResult.GetValue(nodeName) ?? "",
                Kubeconfig = parseResult.GetValue(kubeconfig),
                KubeletRegistrarDirectoryPath = parseResult.GetValue(registrarDir)!,
                KubeletPluginsDirectoryPath = parseResult.GetValue(pluginsDir)!,
                CdiRoot = parseResult.GetValue(cdiRoot)!,
                PodUid = parseResult.GetValue(podUid),
                HttpEndpoint = parseResult.GetValue(httpEndpoint),
                LogFormat = parseResult.GetValue(logFormat)!,
            };
            var errors = KubeletPluginOptionsValidator.Validate(options);
            if (errors.Count > 0)
            {
                return CliInvocation.UsageError(command, errors[0]);
            }

            WebApplication app;
            try
            {
                app = KubeletPluginHost.Build(options, builder =>
                {
                    builder.Logging.ClearProviders();
                    builder.Services.AddSerilog(LogSetup.CreateLogger(options.LogFormat), dispose: true);
                    configure?.Invoke(builder);
                });
            }
            catch (KubeletPluginConfigurationException ex)
            {
                return CliInvocation.UsageError(command, ex.Message);
            }

            await using (app.ConfigureAwait(false))
            {
                try
                {
                    await HostingAbstractionsHostExtensions.RunAsync(app, cancellationToken).ConfigureAwait(false);
                }
                catch (KubeletPluginConfigurationException ex)
                {
                    Console.Error.WriteLine($"securedra kubelet-plugin: {ex.Message}");
                    return 1;
                }
            }

            return 0;
        });
        return command;
    }
}
