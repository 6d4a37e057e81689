using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Api.Validation;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Audit.Sources;
using SecureDra.Controller.Leadership;
using SecureDra.Controller.Webhook;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Hosting;

/// <summary>
/// Builds the controller: the webhook on its own HTTPS listener, probes and metrics on a plain HTTP listener, the
/// leader election and the leader-only audit loop. Each listener serves only its own paths.
/// </summary>
public static class ControllerHost
{
    public static WebApplication Build(
        ControllerOptions options,
        IKubeApiClient? kubeClient,
        IEventRecorder? eventRecorder,
        Action<ILoggingBuilder>? configureLogging = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder();
        configureLogging?.Invoke(builder.Logging);
        var time = timeProvider ?? TimeProvider.System;

        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(options.Webhook);
        builder.Services.AddSingleton<MetricsRegistry>();
        builder.Services.AddSingleton(new ResourceObjectValidator(new GpuConfigValidator(new GpuConfigLimits()), options.DriverName));
        builder.Services.AddSingleton<AdmissionReviewProcessor>();
        builder.Services.AddSingleton<AdmissionWebhookEndpoint>();
        builder.Services.AddSingleton(sp => new PemCertificateReloader(
            options.TlsCertFile, options.TlsPrivateKeyFile, options.CertificateReloadInterval, time, sp.GetRequiredService<ILogger<PemCertificateReloader>>()));
        builder.Services.AddSingleton<LeadershipState>();

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
            // A body slower than 1 KiB/s after a 2 s grace is cut off by Kestrel itself, below our per-request deadline.
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 1024, gracePeriod: TimeSpan.FromSeconds(2));
            kestrel.Limits.MaxConcurrentConnections = 1024;
            kestrel.Listen(options.WebhookListen, listen =>
            {
                var reloader = kestrel.ApplicationServices.GetRequiredService<PemCertificateReloader>();
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ServerCertificateSelector = (_, _) => reloader.Current,
                    ClientCertificateMode = ClientCertificateMode.NoCertificate,
                    HandshakeTimeout = TimeSpan.FromSeconds(10),
                });
            });
            kestrel.Listen(options.HttpEndpoint);
        });

        var app = builder.Build();
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
