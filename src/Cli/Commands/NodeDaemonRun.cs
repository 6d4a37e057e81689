using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Cli.Hosting;
using SecureDra.Kube.Config;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Hosting;
using Serilog;

namespace SecureDra.Cli.Commands;

/// <summary>
/// Runs a built node daemon (the kubelet plugin or the driver proxy) to the end and turns the failures it can
/// meet at start-up into the CLI's contract: one line naming the problem, exit 2 for configuration, exit 1 for a
/// refusal, never a stack trace. One place, so the two daemons cannot answer the same failure differently.
/// </summary>
internal static class NodeDaemonRun
{
    /// <summary>
    /// Builds the daemon's host (the CLI's log set-up, then <paramref name="register"/>), warns once per deprecated
    /// variable in use, and runs it (<see cref="RunAsync"/>). A setting the host refuses while it is built is a usage
    /// error: one line, exit 2.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static async Task<int> BuildAndRunAsync(
        Command command, ParseResult parseResult, KubeletPluginOptions options, LogSettings logSettings, Action<IServiceCollection> register, CancellationToken cancellationToken)
    {
        WebApplication app;
        try
        {
            app = KubeletPluginHost.Build(options, builder =>
            {
                builder.Logging.ClearProviders();
                builder.Services.AddSerilog(LogSetup.CreateLogger(logSettings), dispose: true);
                register(builder.Services);
            });
        }
        catch (Exception ex) when (ex is KubeletPluginConfigurationException or KubeConfigException or ArgumentException)
        {
            // No kubeconfig outside a pod, or an unreadable one, is a usage error: one line, exit 2, not a stack trace.
            return CliInvocation.UsageError(command, ex.Message);
        }

        LogSetup.WarnDeprecated(parseResult, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SecureDra.Cli"));
        return await RunAsync(app, command, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<int> RunAsync(WebApplication app, Command command, CancellationToken cancellationToken)
    {
        await using (app.ConfigureAwait(false))
        {
            try
            {
                await HostingAbstractionsHostExtensions.RunAsync(app, cancellationToken).ConfigureAwait(false);
            }
            catch (KubeletPluginConfigurationException ex)
            {
                return Refused(command, ex);
            }
            catch (KubeConfigException ex)
            {
                return CliInvocation.UsageError(command, $"--kubeconfig: {ex.Message}");
            }
            catch (SecureDra.Nvml.Backends.GpuBackendException ex)
            {
                // No driver, no device, a library that will not load: the node is not set up for this backend.
                // A configuration fact (the message says how to fix it), not a crash: one line, exit 2.
                return CliInvocation.UsageError(command, ex.Message);
            }
            catch (SecureDra.KubeletPlugin.State.CheckpointCorruptException ex)
            {
                // Fails closed by design; the message names the file and a recovery that is safe to follow.
                return Refused(command, ex);
            }
            catch (ResourceApiNotServedException ex)
            {
                // A cluster without DRA is a configuration fact, not a crash: one line, no stack trace.
                return Refused(command, ex);
            }
        }

        return 0;
    }

    private static int Refused(Command command, Exception ex)
    {
        Console.Error.WriteLine($"securedra {command.Name}: {ex.Message.ReplaceLineEndings(" ")}");
        return 1;
    }
}
