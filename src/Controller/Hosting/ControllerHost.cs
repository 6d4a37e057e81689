using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureDra.Api.Validation;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Audit.Sources;
using SecureDra.Controller.Leadership;
using SecureDra.Controller.Webhook;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.Network;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Hosting;

/// <summary>
/// Builds the controller: the webhook on its own HTTPS listener, probes and metrics on a plain HTTP listener, the
/// leader election and the leader-only audit loop. Each listener serves only its own paths and has its own connection
/// cap and idle timeout (<see cref="ConnectionGuard"/>), so a flood on one cannot take the other's slots.
/// </summary>
public static class ControllerHost
{
    public const string WebhookListener = "webhook";
    public const string HttpListener = "http";

    /// <summary>Builds the host; throws <see cref="InvalidOperationException"/> with a one-line reason naming the flag when an option cannot work.</summary>
    public static WebApplication Build(
        ControllerOptions options,
        IKubeApiClient? kubeClient,
        IEventRecorder? eventRecorder,
        Action<ILoggingBuilder>? configureLogging = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var invalid = options.WebhookLimits.Validate("--webhook-max-connections", "--webhook-idle-timeout")
            ?? options.HttpLimits.Validate("--http-max-connections", "--http-idle-timeout")
            ?? DescriptorBudget.Check(DescriptorLimit.Current(), options.DescriptorReserve,
                ("--webhook-max-connections", options.WebhookLimits), ("--http-max-connections", options.HttpLimits));
        if (invalid is not null)
        {
            throw new InvalidOperationException(invalid);
        }

        var builder = WebApplication.CreateSlimBuilder();
        configureLogging?.Invoke(builder.Logging);
        var time = timeProvider ?? TimeProvider.System;
        var clientAuthority = options.ClientCaFile is { Length: > 0 } caFile ? ClientCertificateAuthority.Load(caFile, time) : null;

        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(options.Webhook);
        builder.Services.AddSingleton<MetricsRegistry>();
        IGpuConfigValidator configValidator = options.NvidiaConfigPolicy is { } nvidiaPolicy
            ? new SecureDra.Api.Config.Nvidia.NvidiaResourceConfigValidator(new SecureDra.Api.Config.Nvidia.NvidiaOpaqueConfigValidator(new GpuConfigLimits()), nvidiaPolicy)
            : new GpuConfigValidator(new GpuConfigLimits());
        builder.Services.AddSingleton(new ResourceObjectValidator(configValidator, options.DriverName));
        builder.Services.AddSingleton<AdmissionReviewProcessor>();
        builder.Services.AddSingleton<AdmissionBodyBuffers>();
        builder.Services.AddSingleton<AdmissionWebhookEndpoint>();
        builder.Services.AddSingleton(sp => new PemCertificateReloader(
            options.TlsCertFile, options.TlsPrivateKeyFile, options.CertificateReloadInterval, time, sp.GetRequiredService<ILogger<PemCertificateReloader>>()));
        builder.Services.AddSingleton<LeadershipState>();
        builder.Services.AddKeyedSingleton(WebhookListener, (sp, _) => new ConnectionGuard(
            WebhookListener, options.WebhookListen, options.WebhookLimits, tls: true, sp.GetRequiredService<MetricsRegistry>(), time, sp.GetRequiredService<ILogger<ConnectionGuard>>()));
        builder.Services.AddKeyedSingleton(HttpListener, (sp, _) => new ConnectionGuard(
            HttpListener, options.HttpEndpoint, options.HttpLimits, tls: false, sp.GetRequiredService<MetricsRegistry>(), time, sp.GetRequiredService<ILogger<ConnectionGuard>>()));
        builder.Services.AddSingleton<IConnectionListenerFactory>(sp => new GuardedTransportFactory(
            new SocketTransportFactory(sp.GetRequiredService<IOptions<SocketTransportOptions>>(), sp.GetRequiredService<ILoggerFactory>()),
            [sp.GetRequiredKeyedService<ConnectionGuard>(WebhookListener), sp.GetRequiredKeyedService<ConnectionGuard>(HttpListener)]));

        if (kubeClient is not null && options.EnableAudit)
        {
            builder.Services.AddSingleton(kubeClient);
            builder.Services.AddSingleton(options.Audit);
            builder.Services.AddSingleton(options.Reconciler);
            builder.Services.AddSingleton(new HardeningAuditor(options.Audit));
            builder.Services.AddSingleton<ISnapshotSource>(new LiveSnapshotSource(kubeClient, options.Audit));
            // A failed run is reported on the controller's own Pod (kubectl describe pod), or on its namespace when the Pod name is unknown.
            var failureTarget = options.PodName is { Length: > 0 } pod
                ? new EventTarget("v1", "Pod", pod, options.Audit.Namespace, null)
                : new EventTarget("v1", "Namespace", options.Audit.Namespace, null, null);
            builder.Services.AddSingleton(sp => new AuditFindingPublisher(sp.GetRequiredService<MetricsRegistry>(), eventRecorder, failureTarget, time));
            builder.Services.AddHostedService<AuditReconciler>();
            if (options.LeaderElection)
            {
                builder.Services.AddSingleton(options.Election);
                builder.Services.AddSingleton<LeaseLeaderElector>();
                builder.Services.AddHostedService<LeaderElectionService>();
            }
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.Webhook.MaxBodyBytes + 1L;
            kestrel.Limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
            kestrel.Limits.MinRequestBodyDataRate = options.MinRequestBodyDataRate;
            // Kestrel's keep-alive and connection cap are server-wide; the per-listener ones are the guards' below.
            kestrel.Limits.KeepAliveTimeout = options.WebhookLimits.IdleTimeout > options.HttpLimits.IdleTimeout ? options.WebhookLimits.IdleTimeout : options.HttpLimits.IdleTimeout;
            kestrel.Limits.MaxConcurrentConnections = null;
            var webhookGuard = kestrel.ApplicationServices.GetRequiredKeyedService<ConnectionGuard>(WebhookListener);
            var httpGuard = kestrel.ApplicationServices.GetRequiredKeyedService<ConnectionGuard>(HttpListener);
            kestrel.Listen((System.Net.IPEndPoint)webhookGuard.Endpoint, listen =>
            {
                var reloader = kestrel.ApplicationServices.GetRequiredService<PemCertificateReloader>();
                var guard = webhookGuard;
                listen.Use(guard.Middleware);
                var https = new HttpsConnectionAdapterOptions
                {
                    SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ServerCertificateSelector = (_, _) => reloader.Current,
                    ClientCertificateMode = ClientCertificateMode.NoCertificate,
                    HandshakeTimeout = options.TlsHandshakeTimeout,
                };
                if (clientAuthority is not null)
                {
                    https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                    https.ClientCertificateValidation = (certificate, chain, errors) => clientAuthority.Validate(certificate, chain, errors);
                }

                listen.UseHttps(https);
                listen.Use(guard.AfterTls);
            });
            kestrel.Listen((System.Net.IPEndPoint)httpGuard.Endpoint, listen => listen.Use(httpGuard.Middleware));
        });

        var app = builder.Build();
        StandardMetrics.Register(app.Services.GetRequiredService<MetricsRegistry>(), "controller");
        if (!options.LeaderElection || kubeClient is null || !options.EnableAudit)
        {
            // Without election this replica is the only one: it leads from the start.
            app.Services.GetRequiredService<LeadershipState>().Started();
        }

        // Fail at start, not at the first handshake, when the certificate files are wrong.
        _ = app.Services.GetRequiredService<PemCertificateReloader>();

        var endpoint = app.Services.GetRequiredService<AdmissionWebhookEndpoint>();
        var metrics = app.Services.GetRequiredService<MetricsRegistry>();
        var leadership = app.Services.GetRequiredService<LeadershipState>();
        var reloaderForProbe = app.Services.GetRequiredService<PemCertificateReloader>();
        var auditStatus = app.Services.GetService<AuditFindingPublisher>()?.Status;

        app.Use(ConnectionGuard.TrackRequestAsync);
        app.Map(options.Webhook.Path, HttpsOnly(endpoint.HandleAsync));
        app.MapGet("/healthz", HttpOnly(context => context.Response.WriteAsync("ok\n", context.RequestAborted)));
        app.MapGet("/readyz", HttpOnly(context =>
        {
            // Ready means the webhook can serve: a certificate is loaded and not expired. Leadership and the audit are
            // reported, not required: every replica serves the webhook, and an unready webhook (failurePolicy Fail)
            // would block claims cluster-wide for a failure that only concerns the audit (docs/hardening.md).
            var certificate = reloaderForProbe.Current;
            var now = time.GetUtcNow();
            var valid = certificate.NotBefore.ToUniversalTime() <= now.UtcDateTime && now.UtcDateTime < certificate.NotAfter.ToUniversalTime();
            context.Response.StatusCode = valid ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            return context.Response.WriteAsync(
                $"webhook certificate: {(valid ? "valid" : "expired or not yet valid")} until {certificate.NotAfter.ToUniversalTime():o}\nleader: {leadership.IsLeader.ToString().ToLowerInvariant()}\n{auditStatus?.Describe()}",
                context.RequestAborted);
        }));
        app.MapGet("/metrics", HttpOnly(context =>
        {
            context.Response.ContentType = MetricsRegistry.ContentType;
            return context.Response.WriteAsync(metrics.Render(), context.RequestAborted);
        }));
        return app;
    }

    private static RequestDelegate HttpsOnly(RequestDelegate inner) => context =>
    {
        if (!context.Request.IsHttps)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return inner(context);
    };

    private static RequestDelegate HttpOnly(RequestDelegate inner) => context =>
    {
        if (context.Request.IsHttps)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return inner(context);
    };
}
