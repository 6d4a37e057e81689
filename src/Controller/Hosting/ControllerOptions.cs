using System.Net;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Leadership;
using SecureDra.Controller.Webhook;

namespace SecureDra.Controller.Hosting;

/// <summary>Everything <c>securedra controller</c> is configured with, after flag parsing.</summary>
public sealed record ControllerOptions
{
    public string DriverName { get; init; } = SecureDra.Api.DriverConstants.DefaultDriverName;

    /// <summary>HTTPS listener for the admission webhook only.</summary>
    public IPEndPoint WebhookListen { get; init; } = new(IPAddress.Any, 8443);

    /// <summary>Plain HTTP listener for /healthz, /readyz and /metrics only.</summary>
    public IPEndPoint HttpEndpoint { get; init; } = new(IPAddress.Any, 8080);

    public required string TlsCertFile { get; init; }

    public required string TlsPrivateKeyFile { get; init; }

    public TimeSpan CertificateReloadInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Kestrel's header deadline: a client that trickles headers is cut off after this.</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>This replica's Pod (POD_NAME), which a failed audit run is reported on as a Warning Event; null: the namespace.</summary>
    public string? PodName { get; init; }

    /// <summary>Run the audit loop (needs a Kubernetes client).</summary>
    public bool EnableAudit { get; init; } = true;

    /// <summary>False: this replica always leads (single replica, or tests).</summary>
    public bool LeaderElection { get; init; } = true;

    public AdmissionWebhookOptions Webhook { get; init; } = new();

    public HardeningAuditOptions Audit { get; init; } = new();

    public AuditReconcilerOptions Reconciler { get; init; } = new();

    public LeaderElectionOptions Election { get; init; } = new();
}
