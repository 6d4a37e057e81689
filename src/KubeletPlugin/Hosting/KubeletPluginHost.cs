using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Grpc;
using SecureDra.KubeletPlugin.Health;
using SecureDra.KubeletPlugin.Registration;
using SecureDra.Network;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>
/// Builds the kubelet plugin: Kestrel, HTTP/2 only (h2c prior knowledge) on the registration and DRA
/// Unix sockets, HTTP/1.1 on the optional probe endpoint. The Unix sockets keep Kestrel's server-wide, effectively
/// endless keep-alive (the kubelet's connection must never be dropped); the TCP probe endpoint has its own connection
/// cap and idle timeout (<see cref="ConnectionGuard"/>, <see cref="KubeletPluginOptions.HttpLimits"/>).
/// <para>
/// Extension point: <paramref name="configure"/> runs after the defaults are registered, so a
/// registration there wins. It must register the <see cref="IClaimPipeline"/> (the product: <c>AddClaimPipeline</c>);
/// there is no default, so a host without one fails at start rather than answer the kubelet with a stand-in. Also:
/// hosted services, readiness checks (<see cref="IPluginReadinessCheck"/>), more
/// <see cref="AdvertisedService"/> entries, logging providers.
/// </para>
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static class KubeletPluginHost
{
    /// <summary>Validates <paramref name="options"/> (throws <see cref="KubeletPluginConfigurationException"/>) and builds the host; nothing is bound until it starts.</summary>
    public static WebApplication Build(KubeletPluginOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = KubeletPluginOptionsValidator.Validate(options);
        if (errors.Count > 0)
        {
            throw new KubeletPluginConfigurationException(errors[0]);
        }

        var layout = PluginSocketLayout.Resolve(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "securedra-kubelet-plugin",
            ContentRootPath = AppContext.BaseDirectory,
        });

        AddDefaults(builder.Services, options, layout);
        configure?.Invoke(builder);
        ConfigureKestrel(builder, options, layout);

        var app = builder.Build();
        var metrics = app.Services.GetRequiredService<MetricsRegistry>();
        // The driver proxy is built by this host too; its build_info says so, so dashboards tell the two modes apart.
        StandardMetrics.Register(metrics, app.Services.GetService<Proxy.ProxyOptions>() is null ? "kubelet-plugin" : "proxy");
        if (app.Services.GetService<DeviceInventory>() is { } inventory)
        {
            DeviceInventoryMetrics.Register(metrics, inventory);
        }

        app.Use(ConnectionGuard.TrackRequestAsync);
        app.UseMiddleware<ListenerScopeMiddleware>();
        app.MapGrpcService<RegistrationService>();
        app.MapGrpcService<V1DraPluginService>();
        app.MapGrpcService<V1Beta1DraPluginService>();
        if (app.Services.GetService<Proxy.ProxyHealthService>() is not null)
        {
            // Driver proxy: health keyed by the vendor's devices, merged with the vendor's stream.
            app.MapGrpcService<Proxy.ProxyHealthService>();
        }
        else if (app.Services.GetService<DeviceHealthTracker>() is not null)
        {
            app.MapGrpcService<DraResourceHealthService>();
        }

        var probes = app.Services.GetRequiredService<HttpProbeEndpoints>();
        app.MapGet("/healthz", (RequestDelegate)probes.HealthzAsync);
        app.MapGet("/readyz", (RequestDelegate)probes.ReadyzAsync);
        app.MapGet("/metrics", (RequestDelegate)probes.MetricsAsync);
        return app;
    }

    /// <summary>Convenience overload for the common hook: services only.</summary>
    public static WebApplication Build(KubeletPluginOptions options, Action<IServiceCollection> configureServices)
    {
        ArgumentNullException.ThrowIfNull(configureServices);
        return Build(options, builder => configureServices(builder.Services));
    }

    private static void AddDefaults(IServiceCollection services, KubeletPluginOptions options, PluginSocketLayout layout)
    {
        services.AddSingleton(options);
        services.AddSingleton(layout);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MetricsRegistry>();
        services.AddSingleton<UnixSocketFiles>();
        services.AddSingleton<RegistrationStatusTracker>();
        services.AddSingleton<HttpProbeEndpoints>();
        if (options.TrimMemoryAfterStart)
        {
            services.AddHostedService(sp => new Memory.StartupMemoryTrim(
                sp.GetRequiredService<HttpProbeEndpoints>(), sp.GetRequiredService<MetricsRegistry>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<Memory.StartupMemoryTrim>>(), Memory.ExecutablePageOut.Run));
        }

        if (options.TrimMemoryWhenIdle > TimeSpan.Zero)
        {
            services.AddSingleton(sp => new Memory.CallActivity(sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<Memory.CallActivityInterceptor>();
            services.AddHostedService(sp => new Memory.IdleMemoryTrim(
                options.TrimMemoryWhenIdle, sp.GetRequiredService<Memory.CallActivity>(), sp.GetRequiredService<MetricsRegistry>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<Memory.IdleMemoryTrim>>(), Memory.GcTrim.CollectAggressively));
        }

        if (options.HttpEndpoint is { } endpoint && KubeletPluginOptionsValidator.TryParseHttpEndpoint(endpoint, out var ip))
        {
            // One endpoint object, shared by the guard, Kestrel's Listen and the transport that matches on it.
            services.AddSingleton(sp => new ConnectionGuard(
                "http", ip, options.HttpLimits, tls: false, sp.GetRequiredService<MetricsRegistry>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ConnectionGuard>>()));
        }

        // A connection's request is handled on the thread that read it from the socket instead of being handed on
        // through Kestrel's I/O queue and pipe schedulers: each hand-off wakes a pool thread, and an idle plugin's
        // threads are asleep when the kubelet calls (docs/performance.md §10.6: an isolated empty call took 0.7–1 ms,
        // the same call back to back 0.15 ms). Safe here because the runtime still hands socket completions to the
        // thread pool (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS is not set): a blocking step (an fsync) holds one
        // pool thread, never the socket engine's epoll thread, and HTTP/2 still runs each stream on its own work item.
        services.Configure<SocketTransportOptions>(transport => transport.UnsafePreferInlineScheduling = true);
        services.AddSingleton<IConnectionListenerFactory>(sp => new GuardedTransportFactory(
            new SocketTransportFactory(sp.GetRequiredService<IOptions<SocketTransportOptions>>(), sp.GetRequiredService<ILoggerFactory>()),
            sp.GetServices<ConnectionGuard>()));
        services.AddSingleton<DraRequestHandler>();
        services.AddSingleton<GrpcMetricsInterceptor>();
        services.AddSingleton(AdvertisedService.DraPluginV1);
        services.AddSingleton(AdvertisedService.DraPluginV1Beta1);
        services.AddTransient<IStartupFilter, SocketLifecycle>();
        services.AddRouting();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = ClaimRequestLimits.MaxReceiveMessageBytes;
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<GrpcMetricsInterceptor>();
            if (options.TrimMemoryWhenIdle > TimeSpan.Zero)
            {
                grpc.Interceptors.Add<Memory.CallActivityInterceptor>();
            }
        });
    }

    private static void ConfigureKestrel(WebApplicationBuilder builder, KubeletPluginOptions options, PluginSocketLayout layout)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.KeepAliveTimeout = options.ConnectionIdleTimeout;
            kestrel.Limits.Http2.KeepAlivePingDelay = options.Http2KeepAlivePingDelay;
            kestrel.Limits.Http2.KeepAlivePingTimeout = options.Http2KeepAlivePingTimeout;

            // DRA first, registration second: the kubelet may dial the endpoint as soon as it sees the registration socket.
            kestrel.ListenUnixSocket(layout.DraSocketPath, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(ListenerScopeMiddleware.Tag(ListenerKind.Dra));
            });
            kestrel.ListenUnixSocket(layout.RegistrationSocketPath, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(ListenerScopeMiddleware.Tag(ListenerKind.Registration));
            });
            if (kestrel.ApplicationServices.GetService<ConnectionGuard>() is { } guard)
            {
                kestrel.Listen((IPEndPoint)guard.Endpoint, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    listen.Use(guard.Middleware);
                    listen.Use(ListenerScopeMiddleware.Tag(ListenerKind.Http));
                });
            }
        });
    }
}
