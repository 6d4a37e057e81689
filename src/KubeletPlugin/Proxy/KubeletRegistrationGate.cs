using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// Decides when the kubelet sees the proxy. The registration socket is bound as <c>.&lt;driver&gt;-reg.sock</c>, a name
/// the kubelet's plugin watcher ignores; publishing renames it to <c>&lt;driver&gt;-reg.sock</c> (the watcher sees a
/// create and registers), withdrawing renames it back (the watcher sees a delete and deregisters). rename(2) keeps the
/// listening socket, so nothing is re-bound. The proxy publishes only while a vendor plugin is connected.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class KubeletRegistrationGate
{
    private readonly PluginSocketLayout _layout;
    private readonly UnixSocketFiles _files;
    private readonly ILogger<KubeletRegistrationGate> _logger;
    private readonly Gauge _registered;
    private readonly Counter _withdrawals;
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _published;

    public KubeletRegistrationGate(PluginSocketLayout layout, UnixSocketFiles files, IHostApplicationLifetime lifetime, MetricsRegistry metrics, ILogger<KubeletRegistrationGate> logger)
    {
        _files = files;
        ArgumentNullException.ThrowIfNull(lifetime);
        ArgumentNullException.ThrowIfNull(metrics);
        _layout = layout;
        _logger = logger;
        _registered = metrics.Gauge("securedra_proxy_kubelet_registered", "1 while the proxy's registration socket is visible to the kubelet.");
        _withdrawals = metrics.Counter("securedra_proxy_registration_withdrawals_total", "Times the proxy withdrew its kubelet registration, by reason.", "reason");
        lifetime.ApplicationStarted.Register(() => _started.TrySetResult());

        // Registered after SocketLifecycle's, so it runs first: the hidden name is back in place for it to remove.
        lifetime.ApplicationStopping.Register(() => Withdraw("stopping"));
    }

    public bool IsPublished
    {
        get
        {
            lock (_lock)
            {
                return _published;
            }
        }
    }

    /// <summary>Completes once the sockets are bound and have their modes (the host has started).</summary>
    public Task WaitUntilBoundAsync(CancellationToken cancellationToken) => _started.Task.WaitAsync(cancellationToken);

    /// <summary>Makes the registration visible to the kubelet; no-op when it is.</summary>
    public void Publish()
    {
        lock (_lock)
        {
            if (_published || _layout.VisibleRegistrationSocketPath == _layout.RegistrationSocketPath)
            {
                _published = true;
                return;
            }

            if (!File.Exists(_layout.RegistrationSocketPath))
            {
                return; // not bound (yet, or any more)
            }

            if (File.Exists(_layout.VisibleRegistrationSocketPath))
            {
                // Left by a proxy killed while published (kill -9 runs no clean-up); one that still answers is not ours
                // to take, and RemoveStale refuses it.
                _files.RemoveStale(_layout.VisibleRegistrationSocketPath);
            }

            File.Move(_layout.RegistrationSocketPath, _layout.VisibleRegistrationSocketPath, overwrite: false);
            _published = true;
            _registered.Set(1);
        }

        LogPublished(_layout.VisibleRegistrationSocketPath);
    }

    /// <summary>Hides the registration from the kubelet, which deregisters the driver; no-op when hidden.</summary>
    public void Withdraw(string reason)
    {
        lock (_lock)
        {
            if (!_published || _layout.VisibleRegistrationSocketPath == _layout.RegistrationSocketPath)
            {
                return;
            }

            try
            {
                File.Move(_layout.VisibleRegistrationSocketPath, _layout.RegistrationSocketPath, overwrite: true);
            }
            catch (IOException)
            {
                // Gone already (removed by hand): the kubelet has deregistered either way.
            }

            _published = false;
            _registered.Set(0);
            _withdrawals.Inc(reason);
        }

        LogWithdrawn(_layout.VisibleRegistrationSocketPath, reason);
    }
}
