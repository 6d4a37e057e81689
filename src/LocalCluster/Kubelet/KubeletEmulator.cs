using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Protocol.Registration;

namespace SecureDra.LocalCluster.Kubelet;

/// <summary>
/// Emulates the kubelet's side of DRA plugin registration over real Unix sockets: watches the
/// registrar directory for <c>*-reg.sock</c> created or renamed into place (names starting with '.' ignored), calls GetInfo with a
/// 1 s deadline, validates type and versions, picks a service per <see cref="KubeletProfile"/>,
/// answers NotifyRegistrationStatus, and keeps a connection to the endpoint. Deleting a
/// registration socket deregisters the plugin.
/// Like the kubelet's plugin watcher (one reconciler working from the watcher's events in order), the directory events
/// go through one bounded queue and one loop: a plugin that restarts deletes and re-creates its socket at the same
/// path, and the old file's "deleted" must never remove the new file's registration. Each registration remembers
/// which file (device, inode) it was made on; a "deleted" removes it only when that file is gone.
/// </summary>
public sealed partial class KubeletEmulator : IAsyncDisposable
{
    private readonly KubeletEmulatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, RegisteredDraPlugin> _bySocket = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _failures = new(StringComparer.Ordinal);
    private readonly Lock _waitersLock = new();
    private readonly List<(Func<RegisteredDraPlugin, bool> Match, TaskCompletionSource<RegisteredDraPlugin> Done)> _waiters = [];
    private readonly CancellationTokenSource _stopping = new();

    // Guards every change of _bySocket, _identities and _attempts, so that a registration commits only against the
    // file the path names at that moment.
    private readonly Lock _stateLock = new();
    private readonly Dictionary<string, SocketFileIdentity> _identities = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (CancellationTokenSource Cancel, Task Task)> _attempts = new(StringComparer.Ordinal);
    private readonly Channel<WatchEvent> _events = Channel.CreateBounded<WatchEvent>(
        new BoundedChannelOptions(EventQueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private int _rescanPending;
    private Task? _loop;
    private FileSystemWatcher? _watcher;

    /// <summary>Directory events queued at most; beyond it (or when the watcher itself overflows) the loop rescans the directory.</summary>
    public const int EventQueueCapacity = 1024;

    private enum WatchEventKind
    {
        Created,
        Deleted,
        Rescan,
    }

    private readonly record struct WatchEvent(WatchEventKind Kind, string Path);

    public KubeletEmulator(KubeletEmulatorOptions options, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    public KubeletProfile Profile => _options.Profile;

    /// <summary>Registered plugins, by registration socket path.</summary>
    public IReadOnlyDictionary<string, RegisteredDraPlugin> Plugins => _bySocket;

    /// <summary>Registration sockets the emulator refused, with the reason sent to the plugin.</summary>
    public IReadOnlyDictionary<string, string> Failures => _failures;

    /// <summary>Starts watching the registrar directory and registers sockets already there.</summary>
    public void Start()
    {
        Directory.CreateDirectory(_options.RegistrarDirectory);
        _watcher = new FileSystemWatcher(_options.RegistrarDirectory, "*-reg.sock") { IncludeSubdirectories = true };
        _watcher.Created += (_, e) => Enqueue(new WatchEvent(WatchEventKind.Created, e.FullPath));
        _watcher.Deleted += (_, e) => Enqueue(new WatchEvent(WatchEventKind.Deleted, e.FullPath));

        // A rename into a watched name is a create for the kubelet's fsnotify watcher, out of it a delete (the driver
        // proxy publishes and withdraws its registration this way).
        _watcher.Renamed += (_, e) =>
        {
            Enqueue(new WatchEvent(WatchEventKind.Deleted, e.OldFullPath));
            Enqueue(new WatchEvent(WatchEventKind.Created, e.FullPath));
        };
        _watcher.Error += (_, _) => Enqueue(new WatchEvent(WatchEventKind.Rescan, ""));
        _loop = Task.Run(() => RunLoopAsync(_stopping.Token));
        _watcher.EnableRaisingEvents = true;
        Enqueue(new WatchEvent(WatchEventKind.Rescan, ""));
    }

    /// <summary>Waits until a plugin for <paramref name="driverName"/> is registered (already or later).</summary>
    public Task<RegisteredDraPlugin> WaitForPluginAsync(string driverName, CancellationToken cancellationToken = default) =>
        WaitForAsync(p => p.DriverName == driverName, cancellationToken);

    /// <summary>Waits until the plugin behind <paramref name="registrationSocket"/> is registered.</summary>
    public Task<RegisteredDraPlugin> WaitForSocketAsync(string registrationSocket, CancellationToken cancellationToken = default) =>
        WaitForAsync(p => p.RegistrationSocket == registrationSocket, cancellationToken);

    /// <summary>
    /// Registers the plugin behind one registration socket, as the kubelet's operation generator does.
    /// Throws <see cref="KubeletRegistrationException"/> when the plugin is refused (after telling it why).
    /// </summary>
    public async Task<RegisteredDraPlugin> RegisterAsync(string registrationSocket, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registrationSocket);
        if (Path.GetFileName(registrationSocket).StartsWith('.'))
        {
            throw new KubeletRegistrationException($"{registrationSocket}: names starting with '.' are ignored by the kubelet");
        }

        if (_bySocket.TryGetValue(registrationSocket, out var existing))
        {
            return existing;
        }

        // The file the registration is made on: the same before and after GetInfo, or the path was re-created meanwhile.
        var identity = SocketFileIdentity.Of(registrationSocket);
        using var channel = UnixSocketGrpcChannel.Create(registrationSocket);
        var client = new Registration.RegistrationClient(channel);
        PluginInfo info;
        try
        {
            info = await client.GetInfoAsync(new InfoRequest(), deadline: Deadline(_options.GetInfoTimeout), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException) when (cancellationToken.IsCancellationRequested)
        {
            // A newer event for this path superseded the attempt, or the emulator stops: not the plugin's failure.
            throw new OperationCanceledException(cancellationToken);
        }
        catch (RpcException ex)
        {
            throw Fail(registrationSocket, $"GetInfo on {registrationSocket} failed: {ex.Status.StatusCode}: {ex.Status.Detail}", ex);
        }

        var error = Validate(info, out var service);
        if (error is not null)
        {
            await NotifyAsync(client, false, error, cancellationToken).ConfigureAwait(false);
            throw Fail(registrationSocket, error, null);
        }

        var endpoint = string.IsNullOrEmpty(info.Endpoint) ? registrationSocket : info.Endpoint;
        var plugin = new RegisteredDraPlugin(info.Name, registrationSocket, endpoint, service!, [.. info.SupportedVersions], _options.CallTimeout, _time);
        await NotifyAsync(client, true, "", cancellationToken).ConfigureAwait(false);
        RegisteredDraPlugin? kept;
        lock (_stateLock)
        {
            var now = SocketFileIdentity.Of(registrationSocket);
            if (_stopping.IsCancellationRequested || identity is null || now != identity)
            {
                kept = null;
            }
            else if (!_bySocket.TryAdd(registrationSocket, plugin))
            {
                kept = _bySocket[registrationSocket];
            }
            else
            {
                _identities[registrationSocket] = identity.Value;
                kept = plugin;
            }
        }

        if (kept != plugin)
        {
            await plugin.DisposeAsync().ConfigureAwait(false);
            if (kept is null)
            {
                // Not a refusal: the socket this GetInfo reached is no longer the file at the path (or we are stopping);
                // the event for the new file registers it. Callers that register directly ask again.
                throw new KubeletRegistrationException($"{registrationSocket} was replaced or removed while registering");
            }

            return kept;
        }

        _failures.TryRemove(registrationSocket, out _);
        LogRegistered(info.Name, endpoint, service!, _options.Profile.Name);
        Complete(plugin);
        return plugin;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _watcher?.Dispose();
        _events.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        Task[] attempts;
        lock (_stateLock)
        {
            attempts = [.. _attempts.Values.Select(a => a.Task)];
        }

        await Task.WhenAll(attempts).ConfigureAwait(false);
        RegisteredDraPlugin[] plugins;
        lock (_stateLock)
        {
            plugins = [.. _bySocket.Values];
            _bySocket.Clear();
            _identities.Clear();
            foreach (var (cancel, _) in _attempts.Values)
            {
                cancel.Dispose();
            }

            _attempts.Clear();
        }

        foreach (var plugin in plugins)
        {
            await plugin.DisposeAsync().ConfigureAwait(false);
        }

        lock (_waitersLock)
        {
            foreach (var (_, done) in _waiters)
            {
                done.TrySetCanceled();
            }

            _waiters.Clear();
        }

        _stopping.Dispose();
    }

    private string? Validate(PluginInfo info, out string? service)
    {
        service = null;
        if (info.Type != "DRAPlugin")
        {
            return $"plugin type \"{info.Type}\" is not DRAPlugin";
        }

        if (string.IsNullOrEmpty(info.Name))
        {
            return "plugin name (driver name) is empty";
        }

        if (info.SupportedVersions.Count == 0)
        {
            return $"plugin {info.Name} advertises no supported versions";
        }

        service = _options.Profile.Choose([.. info.SupportedVersions]);
        return service is null
            ? $"none of the versions {string.Join(", ", info.SupportedVersions)} of plugin {info.Name} is supported by this kubelet ({string.Join(", ", _options.Profile.SupportedDraServices)})"
            : null;
    }

    private async Task NotifyAsync(Registration.RegistrationClient client, bool registered, string error, CancellationToken cancellationToken)
    {
        try
        {
            await client.NotifyRegistrationStatusAsync(
                new RegistrationStatus { PluginRegistered = registered, Error = error },
                deadline: Deadline(_options.NotifyTimeout),
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            LogNotifyFailed(ex.Status.Detail);
        }
    }

    private KubeletRegistrationException Fail(string socket, string message, Exception? inner)
    {
        _failures[socket] = message;
        LogRefused(socket, message);
        return inner is null ? new KubeletRegistrationException(message) : new KubeletRegistrationException(message, inner);
    }

    private async Task RegisterQuietlyAsync(string path, CancellationToken cancellationToken)
    {

        // The file appears at bind(), a moment before listen(); and a plugin that is slow to answer its first
        // GetInfo (a cold start on a loaded node) misses the 1 s deadline. The kubelet's reconciler retries a
        // socket that is still there with exponential backoff, and so does the emulator.
        var delay = TimeSpan.FromMilliseconds(50);
        var giveUp = _time.GetUtcNow() + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                await RegisterAsync(path, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (KubeletRegistrationException ex) when (ex.InnerException is RpcException && File.Exists(path) && _time.GetUtcNow() < giveUp)
            {
                try
                {
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
            catch (Exception ex) when (ex is KubeletRegistrationException or OperationCanceledException or ObjectDisposedException)
            {
                // A refusal (wrong type, no common version) is recorded in Failures; the kubelet also just logs it.
                return;
            }
        }
    }


    private async Task<RegisteredDraPlugin> WaitForAsync(Func<RegisteredDraPlugin, bool> match, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<RegisteredDraPlugin>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waitersLock)
        {
            var found = _bySocket.Values.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            _waiters.Add((match, done));
        }

        using var registration = cancellationToken.Register(() => done.TrySetCanceled(cancellationToken));
        return await done.Task.ConfigureAwait(false);
    }

    private void Complete(RegisteredDraPlugin plugin)
    {
        lock (_waitersLock)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(plugin))
                {
                    _waiters[i].Done.TrySetResult(plugin);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private DateTime Deadline(TimeSpan timeout) => _time.GetUtcNow().UtcDateTime.Add(timeout);
}
