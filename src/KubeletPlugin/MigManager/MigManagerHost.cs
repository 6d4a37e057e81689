using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Network;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// The <c>securedra mig-manager</c> process: one HTTP/2 gRPC listener on a Unix socket and nothing else (no TCP port,
/// no Kubernetes client). Connection order: the peer-credential gate (<see cref="PeerCredentialGate"/>), then the
/// connection cap (<see cref="ConnectionGuard"/>: at the cap the longest-idle connection is closed, with all busy a new
/// one is refused, and the descriptor ceiling holds from accept). Requests are limited to
/// <see cref="MigManagerOptions.MaxRequestBytes"/> and checked by <see cref="StrictRequestInterceptor"/>. The caller
/// registers the GPU layer (IGpuBackend, IMigBackend, IMigInstanceScrubber) in <paramref name="configure"/>.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static partial class MigManagerHost
{
    public const string ListenerName = "mig-manager";

    public static WebApplication Build(MigManagerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "securedra-mig-manager",
            ContentRootPath = AppContext.BaseDirectory,
        });

        var services = builder.Services;
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MetricsRegistry>();
        services.AddSingleton<UnixSocketFiles>();
        services.AddSingleton<MigManagerMetrics>();
        services.AddSingleton(sp => new PeerCredentialGate(options.AllowedUid ?? ProcessIdentity.EffectiveUid,
            sp.GetRequiredService<MigManagerMetrics>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PeerCredentialGate>>()));
        var endpoint = new UnixDomainSocketEndPoint(options.SocketPath);
        services.AddSingleton(sp => new ConnectionGuard(ListenerName, endpoint,
            new ListenerLimits { MaxConnections = options.MaxConnections, IdleTimeout = options.IdleTimeout }, tls: false,
            sp.GetRequiredService<MetricsRegistry>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ConnectionGuard>>()));
        services.AddSingleton<IConnectionListenerFactory>(sp => new GuardedTransportFactory(
            new SocketTransportFactory(sp.GetRequiredService<IOptions<SocketTransportOptions>>(), sp.GetRequiredService<ILoggerFactory>()),
            sp.GetServices<ConnectionGuard>()));
        services.AddSingleton<StrictRequestInterceptor>();
        services.AddSingleton<MigManagerService>();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = MigManagerOptions.MaxRequestBytes;
            grpc.MaxSendMessageSize = MigManagerOptions.MaxResponseBytes;
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<StrictRequestInterceptor>();
        });
        configure?.Invoke(builder);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestHeadersTotalSize = 8 * 1024;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 8;
            kestrel.Limits.Http2.MaxRequestHeaderFieldSize = 4 * 1024;
            var gate = kestrel.ApplicationServices.GetRequiredService<PeerCredentialGate>();
            var guard = kestrel.ApplicationServices.GetRequiredService<ConnectionGuard>();
            kestrel.Listen(guard.Endpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(gate.Middleware);
                listen.Use(guard.Middleware);
            });
        });

        var app = builder.Build();
        app.Use(ConnectionGuard.TrackRequestAsync);
        app.MapGrpcService<MigManagerService>();
        return app;
    }

    /// <summary>
    /// Removes a stale socket file (refusing one a live process still answers on), starts, sets the socket to 0600,
    /// runs until <paramref name="cancellationToken"/> or the host stops, and removes the socket it bound.
    /// </summary>
    public static async Task RunAsync(WebApplication app, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<MigManagerOptions>();
        var files = app.Services.GetRequiredService<UnixSocketFiles>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SecureDra.MigManager");
        var directory = Path.GetDirectoryName(options.SocketPath)!;
        if (!Directory.Exists(directory))
        {
            // Owner only: nothing but this uid has a reason to reach the socket.
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        files.RemoveStale(options.SocketPath);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            files.ClaimBoundSocket(options.SocketPath);
            LogListening(logger, options.SocketPath, app.Services.GetRequiredService<PeerCredentialGate>().AllowedUid, options.MaxConnections);
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            files.RemoveOwned(options.SocketPath);
        }
    }
}
