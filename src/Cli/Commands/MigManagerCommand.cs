using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.Cli.Hosting;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.MigManager;
using SecureDra.Nvml;
using SecureDra.Nvml.Backends;
using SecureDra.Observability.Metrics;
using Serilog;

namespace SecureDra.Cli.Commands;

/// <summary>
/// <c>securedra mig-manager</c>: the small, separately privileged container of the plugin's pod (docs/mig.md,
/// "Privilege"). Serves MIG instance management and the per-instance scrub (the <c>scrub-worker</c> child) to the
/// unprivileged plugin container over a Unix socket in a shared emptyDir; nothing else (no TCP port, no Kubernetes
/// client). Exit 2 for bad flags or a socket in use, 1 for a GPU backend that cannot start.
/// </summary>
internal static class MigManagerCommand
{
    public static Command Create()
    {
        var socket = EnvOption.OptionalFlag("--mig-manager-socket", "Unix socket to serve on (required; an absolute path, at most 107 bytes, in a directory only the plugin's container shares); mode 0600 after bind");
        var allowedUid = EnvOption.OptionalFlag("--mig-manager-allowed-uid", "The only peer user id (SO_PEERCRED) served; default: this process's own uid");
        var maxConnections = EnvOption.Flag("--mig-manager-max-connections", "Connections held at once; at the cap the longest-idle one is closed for a new one, and with all busy a new one is refused", "4");
        var logging = new LogSetup();
        var gpu = new GpuBackendFlags();
        var command = new Command("mig-manager", "Serve MIG instance management and the per-instance scrub to the kubelet plugin over a Unix socket (the pod's MIG container).")
        {
            socket,
            allowedUid,
            maxConnections,
        };
        // Started by the chart as the pod's second container, not by hand (as scrub-worker is started by the plugin).
        command.Hidden = true;
        logging.AddTo(command);
        gpu.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (OperatingSystem.IsWindows())
            {
                return CliInvocation.UsageError(command, "runs on Linux nodes only");
            }

            MigManagerOptions options;
            GpuBackendOptions gpuOptions;
            LogSettings logSettings;
            try
            {
                logSettings = logging.Bind(parseResult);
                var uidText = parseResult.GetValue(allowedUid);
                uint? uid = null;
                if (!string.IsNullOrEmpty(uidText))
                {
                    uid = uint.TryParse(uidText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed < uint.MaxValue
                        ? parsed
                        : throw new ArgumentException($"--mig-manager-allowed-uid: must be a user id from 0 to {uint.MaxValue - 1}, got \"{uidText}\"");
                }

                options = new MigManagerOptions
                {
                    SocketPath = parseResult.GetValue(socket) ?? throw new ArgumentException("--mig-manager-socket: required"),
                    AllowedUid = uid,
                    MaxConnections = FlagParsing.Count("--mig-manager-max-connections", parseResult.GetValue(maxConnections)!, 1, MigManagerOptions.MaxConnectionsLimit),
                };
                options.Validate();
                gpuOptions = gpu.Bind(parseResult, Path.Combine(new KubeletPluginOptions().PluginDataDirectory, "simulated-vram"));
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                return CliInvocation.UsageError(command, ex.Message);
            }

            var app = MigManagerHost.Build(options, builder =>
            {
                builder.Logging.ClearProviders();
                builder.Services.AddSerilog(LogSetup.CreateLogger(logSettings), dispose: true);
                builder.Services.AddGpuLayer(gpuOptions);
            });
            await using (app.ConfigureAwait(false))
            {
                StandardMetrics.Register(app.Services.GetRequiredService<MetricsRegistry>(), "mig-manager");
                LogSetup.WarnDeprecated(parseResult, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SecureDra.Cli"));
                try
                {
                    await MigManagerHost.RunAsync(app, cancellationToken).ConfigureAwait(false);
                }
                catch (KubeletPluginConfigurationException ex)
                {
                    return CliInvocation.UsageError(command, ex.Message);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // The socket's directory cannot be created or bound in: a configuration fact, one line.
                    return CliInvocation.UsageError(command, $"--mig-manager-socket: {ex.Message}");
                }
                catch (GpuBackendException ex)
                {
                    await Console.Error.WriteLineAsync($"securedra {command.Name}: {ex.Message.ReplaceLineEndings(" ")}").ConfigureAwait(false);
                    return 1;
                }
            }

            return 0;
        });
        return command;
    }
}
