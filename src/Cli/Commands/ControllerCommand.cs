using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Api;
using SecureDra.Cli.Hosting;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Hosting;
using SecureDra.Controller.Leadership;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using Serilog;

namespace SecureDra.Cli.Commands;

internal static class ControllerCommand
{
    public static Command Create()
    {
        var kubeconfig = EnvOption.Upstream("--kubeconfig", "KUBECONFIG", "Path to a kubeconfig; empty: in-cluster service account.", "");
        var driverName = EnvOption.Flag("--driver-name", "Driver name whose opaque configs are validated.", DriverConstants.DefaultDriverName, "DRIVER_NAME");
        var ns = EnvOption.Upstream("--namespace", "POD_NAMESPACE", "The driver's namespace (service accounts, DaemonSet, Lease).", new HardeningAuditOptions().Namespace);
        var webhookListen = EnvOption.Flag("--webhook-listen", "HTTPS address:port of the admission webhook.", "0.0.0.0:8443", "WEBHOOK_LISTEN");
        var httpEndpoint = EnvOption.Flag("--http-endpoint", "HTTP address:port for /healthz, /readyz and /metrics.", "0.0.0.0:8080", "HTTP_ENDPOINT");
        var certFile = EnvOption.Flag("--tls-cert-file", "PEM certificate (chain) of the webhook; reloaded when it changes.", "", "TLS_CERT_FILE");
        var keyFile = EnvOption.Flag("--tls-private-key-file", "PEM private key of the webhook certificate; reloaded when it changes.", "", "TLS_PRIVATE_KEY_FILE");
        var auditInterval = EnvOption.Flag("--audit-interval", "Time between hardening audits (30s to 24h); 0 disables the auditor (webhook only).", "5m", "AUDIT_INTERVAL");
        var leaderElection = EnvOption.Flag("--leader-election", "Elect one replica to run the auditor (true/false).", "true", "LEADER_ELECTION");
        var leNamespace = EnvOption.Flag("--leader-election-namespace", "Namespace of the leader Lease; default: --namespace.", "", "LEADER_ELECTION_NAMESPACE");
        var leId = EnvOption.Flag("--leader-election-id", "Name of the leader Lease.", "securedra-controller", "LEADER_ELECTION_ID");
        var logSetup = new LogSetup();
        var vendor = EnvOption.Flag("--vendor", "Whose config kinds the webhook validates: securedra (plugin mode) or nvidia (proxy mode: resource.nvidia.com/v1beta1 under the proxy's policy).", "securedra");
        var allowMps = EnvOption.Flag("--allow-mps", "With --vendor nvidia: admit MPS sharing (keep equal to the proxy's --allow-mps).", "false");
        var allowVfio = EnvOption.Flag("--allow-vfio", "With --vendor nvidia: admit VfioDeviceConfig (keep equal to the proxy's --allow-vfio).", "false");
        var allowComputeDomain = EnvOption.Flag("--allow-compute-domain", "With --vendor nvidia: admit compute-domain configs (keep equal to the proxy's --allow-compute-domain).", "false");
        var defaults = new ControllerOptions { TlsCertFile = "", TlsPrivateKeyFile = "" };
        var clientCaFile = EnvOption.Flag("--client-ca-file", "PEM CA bundle; when set the webhook requires a client certificate issued by it (the API server's). Off by default.", "", "CLIENT_CA_FILE");
        var webhookMaxConnections = EnvOption.Flag("--webhook-max-connections", "Connections the webhook listener holds at once; at the cap the longest-idle one is closed for a new one.", Text(defaults.WebhookLimits.MaxConnections), "WEBHOOK_MAX_CONNECTIONS");
        var webhookIdleTimeout = EnvOption.Flag("--webhook-idle-timeout", "A webhook connection with no request for this long is closed (keep above the API server's 90 s).", "120s", "WEBHOOK_IDLE_TIMEOUT");
        var httpMaxConnections = EnvOption.Flag("--http-max-connections", "Connections the probe/metrics listener holds at once.", Text(defaults.HttpLimits.MaxConnections), "HTTP_MAX_CONNECTIONS");
        var httpIdleTimeout = EnvOption.Flag("--http-idle-timeout", "A probe/metrics connection with no request for this long is closed.", "30s", "HTTP_IDLE_TIMEOUT");
        var names = new AuditNameFlags();

        var command = new Command("controller", "Run the cluster controller: admission webhook and hardening auditor.")
        {
            kubeconfig, driverName, ns, webhookListen, httpEndpoint, certFile, keyFile, auditInterval, leaderElection, leNamespace, leId,
            clientCaFile, webhookMaxConnections, webhookIdleTimeout, httpMaxConnections, httpIdleTimeout, vendor, allowMps, allowVfio, allowComputeDomain,
        };
        names.AddTo(command);
        logSetup.AddTo(command);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            ControllerOptions options;
            LogSettings logSettings;
            string? kubeconfigPath;
            try
            {
                logSettings = logSetup.Bind(parseResult);
                var driver = FlagParsing.DnsSubdomain("--driver-name", parseResult.GetValue(driverName)!);
                var namespaceName = FlagParsing.DnsSubdomain("--namespace", parseResult.GetValue(ns)!);
                var vendorName = FlagParsing.OneOf("--vendor", parseResult.GetValue(vendor)!, "securedra", "nvidia");
                var policy = new SecureDra.Api.Config.Nvidia.NvidiaConfigPolicy(
                    FlagParsing.Bool("--allow-mps", parseResult.GetValue(allowMps)!),
                    FlagParsing.Bool("--allow-vfio", parseResult.GetValue(allowVfio)!),
                    FlagParsing.Bool("--allow-compute-domain", parseResult.GetValue(allowComputeDomain)!));
                if (vendorName != "nvidia" && (policy.AllowMps || policy.AllowVfio || policy.AllowComputeDomain))
                {
                    throw new FormatException("--allow-mps, --allow-vfio and --allow-compute-domain apply only with --vendor nvidia");
                }

                var cert = parseResult.GetValue(certFile)!;
                var key = parseResult.GetValue(keyFile)!;
                if (cert.Length == 0 || key.Length == 0)
                {
                    throw new FormatException("--tls-cert-file and --tls-private-key-file are required: the webhook serves HTTPS only");
                }

                var interval = FlagParsing.Duration("--audit-interval", parseResult.GetValue(auditInterval)!, TimeSpan.FromSeconds(30), TimeSpan.FromHours(24));
                var leaseNamespace = parseResult.GetValue(leNamespace)!;
                kubeconfigPath = parseResult.GetValue(kubeconfig) is { Length: > 0 } path ? path : null;
                var audit = names.Apply(parseResult, new HardeningAuditOptions
                {
                    DriverName = driver,
                    Namespace = namespaceName,
                    AllowedHostPaths = ["/var/lib/kubelet/plugins_registry", "/var/lib/kubelet/plugins/" + driver, "/var/run/cdi"],
                });
                options = new ControllerOptions
                {
                    DriverName = driver,
                    NvidiaConfigPolicy = vendorName == "nvidia" ? policy : null,
                    WebhookListen = FlagParsing.Endpoint("--webhook-listen", parseResult.GetValue(webhookListen)!),
                    HttpEndpoint = FlagParsing.Endpoint("--http-endpoint", parseResult.GetValue(httpEndpoint)!),
                    TlsCertFile = cert,
                    TlsPrivateKeyFile = key,
                    ClientCaFile = parseResult.GetValue(clientCaFile) is { Length: > 0 } ca ? ca : null,
                    WebhookLimits = new Network.ListenerLimits
                    {
                        MaxConnections = FlagParsing.Count("--webhook-max-connections", parseResult.GetValue(webhookMaxConnections)!, 1, 1_000_000),
                        IdleTimeout = FlagParsing.Duration("--webhook-idle-timeout", parseResult.GetValue(webhookIdleTimeout)!, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)),
                    },
                    HttpLimits = new Network.ListenerLimits
                    {
                        MaxConnections = FlagParsing.Count("--http-max-connections", parseResult.GetValue(httpMaxConnections)!, 1, 1_000_000),
                        IdleTimeout = FlagParsing.Duration("--http-idle-timeout", parseResult.GetValue(httpIdleTimeout)!, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)),
                    },
                    EnableAudit = interval != TimeSpan.Zero,
                    PodName = Environment.GetEnvironmentVariable("POD_NAME"),
                    LeaderElection = FlagParsing.Bool("--leader-election", parseResult.GetValue(leaderElection)!),
                    Audit = audit,
                    Reconciler = new AuditReconcilerOptions { Interval = interval == TimeSpan.Zero ? TimeSpan.FromMinutes(5) : interval },
                    Election = new LeaderElectionOptions
                    {
                        Namespace = leaseNamespace.Length == 0 ? namespaceName : FlagParsing.DnsSubdomain("--leader-election-namespace", leaseNamespace),
                        LeaseName = FlagParsing.DnsSubdomain("--leader-election-id", parseResult.GetValue(leId)!),
                        Identity = $"{Environment.GetEnvironmentVariable("POD_NAME") ?? Environment.MachineName}_{Guid.NewGuid():N}",
                    },
                };
            }
            catch (FormatException e)
            {
                return CliInvocation.UsageError(command, e.Message);
            }

            using var logger = LogSetup.CreateLogger(logSettings);
            IKubeApiClient? client = null;
            IEventRecorder? events = null;
            if (options.EnableAudit)
            {
                try
                {
                    (client, events) = KubeClientFactory.Create(kubeconfigPath);
                }
                catch (Exception e) when (e is InvalidOperationException or IOException or NotSupportedException or FormatException or SecureDra.Kube.Config.KubeConfigException)
                {
                    return CliInvocation.UsageError(command, "--kubeconfig: " + e.Message);
                }
            }

            WebApplication app;
            try
            {
                app = ControllerHost.Build(options, client, events, logging =>
                {
                    logging.ClearProviders();
                    logging.AddSerilog(logger, dispose: false);
                });
            }
            catch (InvalidOperationException e)
            {
                return CliInvocation.UsageError(command, e.Message);
            }

            LogSetup.WarnDeprecated(parseResult, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SecureDra.Cli"));
            await using (app.ConfigureAwait(false))
            {
                await ((IHost)app).RunAsync(cancellationToken).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    private static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
