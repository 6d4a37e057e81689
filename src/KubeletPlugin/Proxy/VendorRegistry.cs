using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Observability.Metrics;
using SecureDra.Protocol.Registration;
using RegistrationApi = SecureDra.Protocol.Registration.Registration;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// Plays the kubelet towards the vendor plugin: watches the vendor's private registry directory for
/// <c>*-reg.sock</c> (names starting with '.' ignored, as the kubelet does), calls GetInfo with the kubelet's 1 s
/// deadline, checks the answer (<see cref="VendorPluginInfoCheck"/>), answers NotifyRegistrationStatus and keeps a
/// connection to the accepted endpoint. A re-created registration socket is registered again (the newest wins, as in
/// the kubelet). The endpoint is dialled every probe interval: while it listens the proxy's kubelet registration is
/// published; after <see cref="ProxyOptions.VendorUnreachableTimeout"/> without it the registration is withdrawn.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class VendorRegistry : BackgroundService, IPluginReadinessCheck, IVendorSource
{
    /// <summary>Registration sockets looked at per scan; a directory with more is a misconfiguration, not a reason to spin.</summary>
    public const int MaxRegistrationSockets = 64;

    private readonly ProxyOptions _options;
    private readonly KubeletRegistrationGate _gate;
    private readonly KubeletRegistryGuard _guard;
    private readonly TimeProvider _time;
    private readonly ILogger<VendorRegistry> _logger;
    private readonly Counter _registrations;
    private readonly Gauge _connected;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Dictionary<string, DateTime> _seen = new(StringComparer.Ordinal);
    private VendorConnection? _current;
    private DateTimeOffset _lastReachable;
    private bool _reachable;

    public VendorRegistry(ProxyOptions options, KubeletRegistrationGate gate, KubeletRegistryGuard guard, MetricsRegistry metrics, TimeProvider time, ILogger<VendorRegistry> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _options = options;
        _gate = gate;
        _guard = guard;
        _time = time;
        _logger = logger;
        _registrations = metrics.Counter("securedra_proxy_vendor_registrations_total", "Vendor plugin registrations seen by the proxy, by outcome.", "outcome");
        _connected = metrics.Gauge("securedra_proxy_vendor_connected", "1 while the vendor plugin's DRA endpoint accepts connections.");
    }

    public string Name => "vendor-plugin";

    /// <summary>The accepted vendor, or null while none is connected.</summary>
    public IVendorDraClient? Current
    {
        get
        {
            lock (_lock)
            {
                return _reachable ? _current : null;
            }
        }
    }

    /// <summary>The connection to the accepted vendor while it is reachable (the health watcher streams over it).</summary>
    public VendorConnection? CurrentConnection
    {
        get
        {
            lock (_lock)
            {
                return _reachable ? _current : null;
            }
        }
    }

    public PluginReadiness Check()
    {
        lock (_lock)
        {
            return _current is null
                ? new PluginReadiness(false, $"no vendor plugin {_options.VendorDriverName} registered in {_options.VendorRegistryDirectory}")
                : new PluginReadiness(_reachable, _reachable ? $"vendor plugin at {_current.Endpoint.EndpointPath}" : $"vendor plugin at {_current.Endpoint.EndpointPath} does not answer");
        }
    }

    /// <summary>One scan of the registry and one probe of the endpoint; the loop calls this every probe interval (tests call it directly).</summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        await ScanAsync(cancellationToken).ConfigureAwait(false);
        await ProbeAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _current?.Dispose();
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _gate.WaitUntilBoundAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        Directory.CreateDirectory(_options.VendorRegistryDirectory);
        using var watcher = new FileSystemWatcher(_options.VendorRegistryDirectory) { IncludeSubdirectories = true };
        watcher.Created += (_, _) => Wake();
        watcher.Renamed += (_, _) => Wake();
        watcher.Deleted += (_, _) => Wake();
        watcher.EnableRaisingEvents = true;
        var pass = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Every tenth pass: GetInfo on every other plugin in the kubelet's registry is not free.
                if (pass++ % 10 == 0 && await _guard.CheckAsync(stoppingToken).ConfigureAwait(false) is not null)
                {
                    _gate.Withdraw("rival_registration");
                }

                await ReconcileAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogReconcileFailed(ex);
            }

            using var pause = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            await Task.WhenAny(_wake.WaitAsync(pause.Token), Task.Delay(_options.VendorProbeInterval, _time, pause.Token)).ConfigureAwait(false);
            await pause.CancelAsync().ConfigureAwait(false);
        }
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (Exception ex) when (ex is SemaphoreFullException or ObjectDisposedException)
        {
            // Already woken, or stopping.
        }
    }

    private async Task ScanAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_options.VendorRegistryDirectory))
        {
            return;
        }

        var sockets = Directory.EnumerateFiles(_options.VendorRegistryDirectory, "*-reg.sock", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 4, IgnoreInaccessible = true })
            .Where(p => !Path.GetFileName(p).StartsWith('.'))
            .Take(MaxRegistrationSockets)
            .ToList();
        foreach (var path in sockets)
        {
            DateTime stamp;
            try
            {
                stamp = File.GetLastWriteTimeUtc(path);
            }
            catch (IOException)
            {
                continue;
            }

            // A socket is registered once per file: a re-created socket (new stamp) is a new registration.
            lock (_lock)
            {
                if (_seen.TryGetValue(path, out var known) && known == stamp)
                {
                    continue;
                }
            }

            if (await RegisterAsync(path, cancellationToken).ConfigureAwait(false) is not null)
            {
                lock (_lock)
                {
                    _seen[path] = stamp;
                }
            }
        }

        lock (_lock)
        {
            foreach (var gone in _seen.Keys.Where(p => !sockets.Contains(p, StringComparer.Ordinal)).ToList())
            {
                _seen.Remove(gone);
            }
        }
    }

    /// <returns>True when the socket was handled for good (accepted or refused); false when it did not answer (retried next scan).</returns>
    private async Task<bool?> RegisterAsync(string registrationSocket, CancellationToken cancellationToken)
    {
        using var channel = VendorChannel.Create(registrationSocket, 64 * 1024);
        var client = new RegistrationApi.RegistrationClient(channel);
        PluginInfo info;
        try
        {
            info = await client.GetInfoAsync(new InfoRequest(), deadline: _time.GetUtcNow().UtcDateTime.AddSeconds(1), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            _registrations.Inc("no_answer");
            LogGetInfoFailed(registrationSocket, ex.Status.StatusCode.ToString(), VendorPluginInfoCheck.Clip(ex.Status.Detail));
            return null;
        }

        var error = VendorPluginInfoCheck.Check(info, _options, out var endpoint);
        if (error is null && !await VendorChannel.IsListeningAsync(endpoint!.EndpointPath, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false))
        {
            error = $"endpoint: \"{endpoint.EndpointPath}\" does not accept connections";
        }

        if (error is not null)
        {
            _registrations.Inc("refused");
            LogRefused(registrationSocket, error);
            await NotifyAsync(client, false, error, cancellationToken).ConfigureAwait(false);
            return false;
        }

        await NotifyAsync(client, true, "", cancellationToken).ConfigureAwait(false);
        var connection = new VendorConnection(endpoint!, _options);
        VendorConnection? old;
        lock (_lock)
        {
            old = _current;
            _current = connection;
            _reachable = true;
            _lastReachable = _time.GetUtcNow();
        }

        old?.Dispose();
        _registrations.Inc("accepted");
        _connected.Set(1);
        LogAccepted(endpoint!.DriverName, endpoint.EndpointPath, endpoint.Version.ToString(), registrationSocket);
        PublishUnlessRival();
        return true;
    }

    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        VendorConnection? current;
        lock (_lock)
        {
            current = _current;
        }

        if (current is null)
        {
            return;
        }

        var listening = await VendorChannel.IsListeningAsync(current.Endpoint.EndpointPath, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        bool withdraw;
        bool republish;
        lock (_lock)
        {
            if (!ReferenceEquals(current, _current))
            {
                return;
            }

            republish = listening && !_reachable;
            if (listening)
            {
                _lastReachable = now;
                _reachable = true;
            }

            withdraw = !listening && now - _lastReachable >= _options.VendorUnreachableTimeout;
            if (withdraw)
            {
                _reachable = false;
            }
        }

        if (republish)
        {
            _connected.Set(1);
            LogReachableAgain(current.Endpoint.EndpointPath);
        }

        if (listening)
        {
            PublishUnlessRival();
        }

        if (withdraw && _gate.IsPublished)
        {
            _connected.Set(0);
            LogUnreachable(current.Endpoint.EndpointPath, _options.VendorUnreachableTimeout.TotalSeconds);
            _gate.Withdraw("vendor_unreachable");
        }
    }

    private void PublishUnlessRival()
    {
        if (_guard.Rival is not null)
        {
            return;
        }

        try
        {
            _gate.Publish();
        }
        catch (Exception ex) when (ex is KubeletPluginConfigurationException or IOException or UnauthorizedAccessException)
        {
            LogPublishFailed(ex.Message);
        }
    }

    private async Task NotifyAsync(RegistrationApi.RegistrationClient client, bool registered, string error, CancellationToken cancellationToken)
    {
        try
        {
            await client.NotifyRegistrationStatusAsync(
                new RegistrationStatus { PluginRegistered = registered, Error = error },
                deadline: _time.GetUtcNow().UtcDateTime.AddSeconds(5),
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            LogNotifyFailed(VendorPluginInfoCheck.Clip(ex.Status.Detail));
        }
    }
}
