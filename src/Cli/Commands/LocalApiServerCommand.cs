using System.CommandLine;
using System.Runtime.InteropServices;
using SecureDra.Cli.Hosting;
using SecureDra.LocalCluster.ApiServer;

namespace SecureDra.Cli.Commands;

internal static class LocalApiServerCommand
{
    public static Command Create()
    {
        var listen = EnvOption.Flag("--listen", "HOST:PORT to serve plain HTTP on; port 0 picks a free port", "127.0.0.1:8080", "LOCAL_APISERVER_LISTEN");
        var version = EnvOption.Flag("--kubernetes-version", "Kubernetes version to imitate: 1.32 | 1.33 | 1.34 | 1.35 | 1.36; decides which resource.k8s.io versions and fields are served", "1.36", "KUBERNETES_VERSION");
        var command = new Command(
            "local-apiserver",
            "Run an in-memory stand-in for the Kubernetes API server over plain HTTP, for the demo, tests and kubectl. "
            + "It keeps all objects in memory only (lost on exit), has no authentication or authorization, and is never used in a cluster.")
        {
            listen,
            version,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = new LocalApiServerOptions
            {
                Listen = parseResult.GetValue(listen)!,
                KubernetesVersion = parseResult.GetValue(version)!,
                FaultEndpoint = TestHooks.Compiled,
            };
            try
            {
                KubernetesVersionProfile.Parse(options.KubernetesVersion);
                LocalApiServer.ParseListen(options.Listen);
            }
            catch (ArgumentException e)
            {
                return CliInvocation.UsageError(parseResult.CommandResult.Command, e.Message.Split(" (Parameter", 2)[0]);
            }

            // Only a valid invocation warns: a usage error stays one line.
            EnvOption.WarnDeprecated(parseResult, Console.Error);
            LocalApiServer server;
            try
            {
                server = await LocalApiServer.StartAsync(options, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                return CliInvocation.UsageError(parseResult.CommandResult.Command, $"cannot listen on {options.Listen}: {e.Message}");
            }

            await using var running = server;
            Console.Out.WriteLine($"local-apiserver: in-memory Kubernetes {server.Profile.GitVersion} API stand-in on {server.BaseAddress} (resource.k8s.io {string.Join(", ", server.Profile.ResourceApiVersions)}); objects are kept in memory only; never use it in a cluster");
            await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);

            // Stop on SIGTERM/SIGINT through our own registration: the stop must not depend on which other
            // component in the process also listens for the signals.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Stop(stop); });
            using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; Stop(stop); });
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            return 0;
        });
        return command;
    }

    /// <summary>A signal handler runs on its own thread and may run after the command returned and disposed the source.</summary>
    private static void Stop(CancellationTokenSource stop)
    {
        try
        {
            stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
