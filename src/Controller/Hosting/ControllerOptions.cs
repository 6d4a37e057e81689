using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Leadership;
using SecureDra.Controller.Webhook;
using SecureDra.Network;

namespace SecureDra.Controller.Hosting;

/// <summary>Everything <c>securedra controller</c> is configured with, after flag parsing.</summary>
public sealed record ControllerOptions
{
    public string DriverName { get; init; } = SecureDra.Api.DriverConstants.DefaultDriverName;

    /// <summary>
    /// Proxy mode (<c>--vendor nvidia</c>): the webhook judges the driver's opaque configs as NVIDIA's kinds under this
    /// policy, as the proxy will. Null: SecureDra's own GpuConfig (plugin mode).
    /// </summary>
    public SecureDra.Api.Config.Nvidia.NvidiaConfigPolicy? NvidiaConfigPolicy { get; init; }

    /// <summary>HTTPS listener for the admission webhook only.</summary>
    public IPEndPoint WebhookListen { get; init; } = new(IPAddress.Any, 8443);

    /// <summary>Plain HTTP listener for /healthz, /readyz and /metrics only.</summary>
    public IPEndPoint HttpEndpoint { get; init; } = new(IPAddress.Any, 8080);

    public required string TlsCertFile { get; init; }

    public required string TlsPrivateKeyFile { get; init; }

    public TimeSpan CertificateReloadInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Kestrel's header deadline: a client that trickles headers is cut off after this.</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A body slower than 1 KiB/s after a 2 s grace is cut off by Kestrel itself, below the per-request deadline.</summary>
    public MinDataRate MinRequestBodyDataRate { get; init; } = new(bytesPerSecond: 1024, gracePeriod: TimeSpan.FromSeconds(2));

    /// <summary>
    /// A TLS handshake not finished in this time is dropped. The API server gives the whole webhook call 5 s
    /// (timeoutSeconds in the chart), so a slower handshake is never a real review.
    /// </summary>
    public TimeSpan TlsHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Webhook listener bounds. The idle timeout is above the API server's own idle-connection timeout (90 s in
    /// client-go's transport) so the API server closes an idle connection first and never sends a review on one we
    /// are closing; the cap is far above the handful of connections API servers keep, and at the cap idle connections
    /// are evicted, so holding connections cannot lock the API server out.
    /// </summary>
    public ListenerLimits WebhookLimits { get; init; } = new() { MaxConnections = 512, IdleTimeout = TimeSpan.FromSeconds(120) };

    /// <summary>Probe and metrics listener bounds: the kubelet's probes and a Prometheus scraper or two.</summary>
    public ListenerLimits HttpLimits { get; init; } = new() { MaxConnections = 64, IdleTimeout = TimeSpan.FromSeconds(30) };

    /// <summary>Descriptors kept free of connections for the controller's own files, logs and API-server client.</summary>
    public int DescriptorReserve { get; init; } = 128;

    /// <summary>PEM CA bundle: when set, the webhook requires a client certificate issued by it (the API server's).</summary>
    public string? ClientCaFile { get; init; }

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
