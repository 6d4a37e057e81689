using System.CommandLine;
using SecureDra.Api;
using SecureDra.Cli.Hosting;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Audit.Sources;
using SecureDra.Controller.Hosting;
using SecureDra.Kube.Client;
using SecureDra.Kube.Config;
using SecureDra.Observability.Metrics;

namespace SecureDra.Cli.Commands;

internal static class AuditCommand
{
    public static Command Create()
    {
        var kubeconfig = EnvOption.Upstream("--kubeconfig", "KUBECONFIG", "Audit a live cluster through this kubeconfig.", "");
        var manifests = EnvOption.Flag("--manifests", "Audit a directory of YAML/JSON manifests offline (recursive).", "");
        var output = EnvOption.Flag("--output", "Output: table or json.", "table", "SECUREDRA_AUDIT_OUTPUT");
        var driverName = EnvOption.Flag("--driver-name", "Driver name DeviceClasses select.", DriverConstants.DefaultDriverName, "DRIVER_NAME");
        var ns = EnvOption.Upstream("--namespace", "POD_NAMESPACE", "The driver's namespace.", new HardeningAuditOptions().Namespace);
        var names = new AuditNameFlags();
        var registryDir = EnvOption.Flag("--kubelet-registry-dir", "With --mode proxy, on a node: check this copy or mount of the kubelet's registry directory for a second registration of the driver (offline, names only).", "");

        var command = new Command("audit", "Audit a cluster or a directory of manifests against the hardening baseline. Exit 0 clean, 1 findings, 2 usage or error.")
        {
            kubeconfig, manifests, output, driverName, ns, registryDir,
        };
        names.AddTo(command);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            HardeningAuditOptions options;
            string format;
            string kubeconfigPath = parseResult.GetValue(kubeconfig)!;
            string manifestsDir = parseResult.GetValue(manifests)!;
            if (parseResult.GetValue(registryDir) is { Length: > 0 } registry)
            {
                return await AuditRegistryAsync(parseResult, names, registry, parseResult.GetValue(driverName)!).ConfigureAwait(false);
            }

            try
            {
                format = FlagParsing.OneOf("--output", parseResult.GetValue(output)!, "table", "json");
                // KUBECONFIG is often set in a shell; it must not turn an offline run into a usage error.
                var kubeconfigOnCommandLine = parseResult.GetResult(kubeconfig) is { Implicit: false };
                if (manifestsDir.Length > 0 && kubeconfigOnCommandLine)
                {
                    throw new FormatException("give either --kubeconfig (live cluster) or --manifests DIR (offline), not both");
                }

                if (manifestsDir.Length == 0 && kubeconfigPath.Length == 0 && Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST") is null)
                {
                    throw new FormatException("give --kubeconfig (live cluster) or --manifests DIR (offline); in a pod the service account is used");
                }

                var driver = FlagParsing.DnsSubdomain("--driver-name", parseResult.GetValue(driverName)!);
                options = names.Apply(parseResult, new HardeningAuditOptions
                {
                    DriverName = driver,
                    Namespace = FlagParsing.DnsSubdomain("--namespace", parseResult.GetValue(ns)!),
                    AllowedHostPaths = ["/var/lib/kubelet/plugins_registry", "/var/lib/kubelet/plugins/" + driver, "/var/run/cdi"],
                });
            }
            catch (FormatException e)
            {
                return CliInvocation.UsageError(parseResult.CommandResult.Command, e.Message);
            }

            // Only a valid invocation warns: a usage error stays one line.
            EnvOption.WarnDeprecated(parseResult, Console.Error);

            try
            {
                ISnapshotSource source;
                AuditFindingPublisher? publisher = null;
                if (manifestsDir.Length > 0)
                {
                    source = new ManifestDirectorySnapshotSource(manifestsDir, new StrictManifestReader());
                }
                else
                {
                    var (client, events) = KubeClientFactory.Create(kubeconfigPath.Length == 0 ? null : kubeconfigPath);
                    source = new LiveSnapshotSource(client, options);
                    // A one-shot CLI run has no /metrics to scrape; it still records findings as Events on the objects.
                    publisher = new AuditFindingPublisher(new MetricsRegistry(), events);
                }

                return await AuditRunner.RunAsync(source, options, format, Console.Out, publisher, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is KubeConfigException or ExecCredentialException)
            {
                // An unusable kubeconfig is a configuration error (2), never "findings" (1).
                return CliInvocation.UsageError(parseResult.CommandResult.Command, "--kubeconfig: " + e.Message);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException or NotSupportedException or KubeApiException)
            {
                return CliInvocation.UsageError(parseResult.CommandResult.Command, e.Message);
            }
        });
        return command;
    }

    /// <summary>
    /// The node side of the proxy-mode audit: the controller cannot see a node's filesystem, so this runs on the node
    /// (or on a copy of the directory). Exit 1 for an open finding, 0 otherwise (advisories are printed), 2 for usage.
    /// </summary>
    private static async Task<int> AuditRegistryAsync(ParseResult parseResult, AuditNameFlags names, string registry, string driverText)
    {
        string driver;
        try
        {
            driver = FlagParsing.DnsSubdomain("--driver-name", driverText);
            if (FlagParsing.OneOf("--mode", parseResult.GetValue(names.Mode)!, "plugin", "proxy") != "proxy")
            {
                throw new FormatException("--kubelet-registry-dir needs --mode proxy: in plugin mode SecureDra's own registration carries the driver name");
            }

            if (!Directory.Exists(registry))
            {
                throw new FormatException($"--kubelet-registry-dir: {registry} is not a directory");
            }
        }
        catch (FormatException e)
        {
            return CliInvocation.UsageError(parseResult.CommandResult.Command, e.Message);
        }

        var findings = new SecureDra.KubeletPlugin.NodeHardening.KubeletRegistryCheck(registry, driver, []).Run();
        foreach (var finding in findings)
        {
            await Console.Out.WriteLineAsync($"{(finding.State == SecureDra.KubeletPlugin.NodeHardening.NodeFindingState.Open ? "OPEN" : "ADVISORY")} {finding.Line}").ConfigureAwait(false);
        }

        if (findings.Count == 0)
        {
            await Console.Out.WriteLineAsync($"No findings: no registration of {driver} in {registry}").ConfigureAwait(false);
        }

        return findings.Any(f => f.State == SecureDra.KubeletPlugin.NodeHardening.NodeFindingState.Open) ? 1 : 0;
    }
}
