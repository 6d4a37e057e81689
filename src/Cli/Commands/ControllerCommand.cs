using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Api;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Hosting;
using SecureDra.Controller.Leadership;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace SecureDra.Cli.Commands;

internal static class ControllerCommand
{
    public static Command Create()
    {
        var kubeconfig = Flag("--kubeconfig", "KUBECONFIG", "", "Path to a kubeconfig; empty: in-cluster service account.");
        var driverName = Flag("--driver-name", "DRIVER_NAME", DriverConstants.DefaultDriverName, "Driver name whose opaque configs are validated.");
        var ns = Flag("--namespace", "POD_NAMESPACE", new HardeningAuditOptions().Namespace, "The driver's namespace (service accounts, DaemonSet, Lease).");
        var webhookListen = Flag("--webhook-listen", "WEBHOOK_LISTEN", "0.0.0.0:8443", "HTTPS address:port of the admission webhook.");
        var httpEndpoint = Flag("--http-endpoint", "HTTP_ENDPOINT", "0.0.0.0:8080", "HTTP address:port for /healthz, /readyz and /metrics.");
        var certFile = Flag("--tls-cert-file", "TLS_CERT_FILE", "", "PEM certificate (chain) of the webhook; reloaded when it changes.");
        var keyFile = Flag("--tls-private-key-file", "TLS_PRIVATE_KEY_FILE", "", "PEM private key of the webhook certificate; reloaded when it changes.");
        var auditInterval = Flag("--audit-interval", "AUDIT_INTERVAL", "5m", "Time between hardening audits (30s to 24h); 0 disables the auditor (webhook only).");
        var leaderElection = Flag("--leader-election", "LEADER_ELECTION", "true", "Elect one replica to run the auditor (true/false).");
        var leNamespace = Flag("--leader-election-namespace", "LEADER_ELECTION_NAMESPACE", "", "Namespace of the leader Lease; default: --namespace.");
        var leId = Flag("--leader-election-id", "LEADER_ELECTION_ID", "securedra-controller", "Name of the leader Lease.");
        var logFormat = Flag("--log-format", "LOG_FORMAT", "json", "Log format: json or text.");
        var vendor = Flag("--vendor", "VENDOR", "securedra", "Whose config kinds the webhook validates: securedra (plugin mode) or nvidia (proxy mode: resource.nvidia.com/v1beta1 under the proxy's policy).");
        var allowMps = Flag("--allow-mps", "ALLOW_MPS", "false", "With --vendor nvidia: admit MPS sharing (keep equal to the proxy's --allow-mps).");
        var allowVfio = Flag("--allow-vfio", "ALLOW_VFIO", "false", "With --vendor nvidia: admit VfioDeviceConfig (keep equal to the proxy's --allow-vfio).");
        var allowComputeDomain = Flag("--allow-compute-domain", "ALLOW_COMPUTE_DOMAIN", "false", "With --vendor nvidia: admit compute-domain configs (keep equal to the proxy's --allow-compute-domain).");
        var defaults = new ControllerOptions { TlsCertFile = "", TlsPrivateKeyFile = "" };
        var clientCaFile = Flag("--client-ca-file", "CLIENT_CA_FILE", "", "PEM CA bundle; when set the webhook requires a client certificate issued by it (the API server's). Off by default.");
        var webhookMaxConnections = Flag("--webhook-max-connections", "WEBHOOK_MAX_CONNECTIONS", Text(defaults.WebhookLimits.MaxConnections), "Connections the webhook listener holds at once; at the cap the longest-idle one is closed for a new one.");
        var webhookIdleTimeout = Flag("--webhook-idle-timeout", "WEBHOOK_IDLE_TIMEOUT", "120s", "A webhook connection with no request for this long is closed (keep above the API server's 90 s).");
        var httpMaxConnections = Flag("--http-max-connections", "HTTP_MAX_CONNECTIONS", Text(defaults.HttpLimits.MaxConnections), "Connections the probe/metrics listener holds at once.");
        var httpIdleTimeout = Flag("--http-idle-timeout", "HTTP_IDLE_TIMEOUT", "30s", "A probe/metrics connection with no request for this long is closed.");
        var names = new AuditNameFlags();

        var command = new Command("controller", "Run the cluster controller: admission webhook and hardening auditor.")
        {
            kubeconfig, driverName, ns, webhookListen, httpEndpoint, certFile, keyFile, auditInterval, leaderElection, leNamespace, leId, logFormat,
            clientCaFile, webhookMaxConnections, webhookIdleTimeout, httpMaxConnections, httpIdleTimeout, vendor, allowMps, allowVfio, allowComputeDomain,
        };
        names.AddTo(command);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            ControllerOptions options;
            string format;
            string? kubeconfigPath;
            try
            {
                format = FlagParsing.OneOf("--log-format", parseResult.GetValue(logFormat)!, "json", "text");
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
                await Console.Error.WriteLineAsync($"controller: {e.Message}").ConfigureAwait(false);
                return 2;
            }

            using var logger = CreateLogger(format);
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
                    await Console.Error.WriteLineAsync($"controller: --kubeconfig: {e.Message.ReplaceLineEndings(" ")}").ConfigureAwait(false);
                    return 2;
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
                await Console.Error.WriteLineAsync($"controller: {e.Message}").ConfigureAwait(false);
                return 2;
            }

            await using (app.ConfigureAwait(false))
            {
                await ((IHost)app).RunAsync(cancellationToken).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    private static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A string flag whose default comes from an environment variable, then from <paramref name="fallback"/>.</summary>
    internal static Option<string> Flag(string name, string environmentVariable, string fallback, string description) => new(name)
    {
        Description = $"{description} [env {environmentVariable}]",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(environmentVariable) is { Length: > 0 } fromEnv ? fromEnv : fallback,
    };

    internal static Serilog.Core.Logger CreateLogger(string format)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .Enrich.FromLogContext();
        return format == "json"
            ? configuration.WriteTo.Console(new CompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose).CreateLogger()
            : configuration.WriteTo.Console(standardErrorFromLevel: LogEventLevel.Verbose, formatProvider: System.Globalization.CultureInfo.InvariantCulture).CreateLogger();
    }
}
