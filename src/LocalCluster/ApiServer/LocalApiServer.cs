using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// An in-memory stand-in for the Kubernetes API server over plain HTTP, for the demo, tests and kubectl. It keeps
/// objects in memory only and is never used in a cluster.
/// <code>
/// await using var server = await LocalApiServer.StartAsync(new LocalApiServerOptions { KubernetesVersion = "1.33" }, ct);
/// var http = new HttpClient { BaseAddress = server.BaseAddress };
/// server.Faults.Add(new FaultRule { Count = 2, Status = 500, PathPrefix = "/apis/resource.k8s.io" });
/// Assert.False(server.RequestLog.Any("/apis/resource.k8s.io/v1/"));
/// </code>
/// </summary>
public sealed class LocalApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;

    private LocalApiServer(WebApplication app, CancellationTokenSource stopping, Uri baseAddress, ResourceCatalog catalog, ObjectStore store, RequestLog log, FaultInjector faults)
    {
        Catalog = catalog;
        var profile = catalog.Profile;
        _app = app;
        _stopping = stopping;
        BaseAddress = baseAddress;
        Profile = profile;
        Store = store;
        RequestLog = log;
        Faults = faults;
    }

    /// <summary>http://127.0.0.1:PORT/ — the port actually bound.</summary>
    public Uri BaseAddress { get; }

    public KubernetesVersionProfile Profile { get; }

    /// <summary>The served resources; <c>Catalog.Find("resource.k8s.io", "v1beta1", "resourceslices")</c> gives the type for <see cref="Store"/> calls.</summary>
    public ResourceCatalog Catalog { get; }

    /// <summary>Direct access to the objects (stored v1 shape), for seeding and asserting in tests.</summary>
    public ObjectStore Store { get; }

    public RequestLog RequestLog { get; }

    public FaultInjector Faults { get; }

    public static Task<LocalApiServer> StartAsync(LocalApiServerOptions options, CancellationToken cancellationToken) =>
        StartAsync(options, null, TimeProvider.System, cancellationToken);

    public static async Task<LocalApiServer> StartAsync(LocalApiServerOptions options, ILoggerFactory? loggerFactory, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var profile = KubernetesVersionProfile.Parse(options.KubernetesVersion);
        var endpoint = ParseListen(options.Listen);
        var catalog = new ResourceCatalog(profile);
        var store = new ObjectStore(time, options.WatchHistoryLimit);
        var log = new RequestLog(options.RequestLogLimit);
        var faults = new FaultInjector { EndpointEnabled = options.FaultEndpoint };
        var rules = new ObjectRules(profile, options.DeviceTaints ?? profile.DeviceTaintsEnabledByDefault, time, options.PartitionableDevices ?? profile.PartitionableDevicesEnabledByDefault);
        SeedNamespaces(catalog, store);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(endpoint);
            // One byte over our own limit, so the server answers 413 with a Status body before Kestrel cuts the request.
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes + 1L;
            kestrel.AddServerHeader = false;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        var app = builder.Build();
        var stopping = new CancellationTokenSource();
        var handler = new ApiHandler(catalog, store, rules, log, faults, time, options.MaxRequestBodyBytes, options.WatchBookmarkInterval, stopping.Token);
        app.Run(handler.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("the local API server did not report its address");
        var bound = new Uri(address);
        var baseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{FormatHost(endpoint.Address)}:{bound.Port}/"));
        loggerFactory?.CreateLogger<LocalApiServer>().LogInformation(
            "Local API server (in memory, Kubernetes {KubernetesVersion}) listening on {BaseAddress}", profile.GitVersion, baseAddress);
        return new LocalApiServer(app, stopping, baseAddress, catalog, store, log, faults);
    }

    /// <summary>Completes when the server stops (the CLI waits on this).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Store.CloseWatches();
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await StopAsync(timeout.Token).ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>Parses host:port ("127.0.0.1:8080", "localhost:0", "[::1]:8080").</summary>
    public static IPEndPoint ParseListen(string listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var colon = listen.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(listen.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new ArgumentException($"listen address '{listen}' must be HOST:PORT, for example 127.0.0.1:8080", nameof(listen));
        }

        var host = listen[..colon].Trim('[', ']');
        var address = host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var parsed) ? parsed
            : throw new ArgumentException($"listen host '{host}' must be an IP address or localhost", nameof(listen));
        return new IPEndPoint(address, port);
    }

    private static string FormatHost(IPAddress address) =>
        address.Equals(IPAddress.Any) ? "127.0.0.1"
        : address.Equals(IPAddress.IPv6Any) ? "[::1]"
        : address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]"
        : address.ToString();

    private static void SeedNamespaces(ResourceCatalog catalog, ObjectStore store)
    {
        var namespaces = catalog.Find(string.Empty, "v1", "namespaces")!;
        foreach (var name in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            store.Create(namespaces, null, new System.Text.Json.Nodes.JsonObject
            {
                ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = name },
                ["spec"] = new System.Text.Json.Nodes.JsonObject { ["finalizers"] = new System.Text.Json.Nodes.JsonArray("kubernetes") },
                ["status"] = new System.Text.Json.Nodes.JsonObject { ["phase"] = "Active" },
            }, namespaces);
        }
    }
}
