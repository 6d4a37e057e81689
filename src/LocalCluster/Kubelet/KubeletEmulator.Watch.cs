namespace SecureDra.LocalCluster.Kubelet;

/// <summary>The registrar directory's events, applied one at a time in the order the watcher saw them.</summary>
public sealed partial class KubeletEmulator
{
    private void Enqueue(WatchEvent watchEvent)
    {
        // Runs on the watcher's thread, which must never block. A full queue loses no state: the loop rescans the
        // directory (as it does when the watcher's own buffer overflows).
        if (!_events.Writer.TryWrite(watchEvent))
        {
            Interlocked.Exchange(ref _rescanPending, 1);
            LogEventQueueFull(EventQueueCapacity);
        }
    }

    private async Task RunLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var watchEvent in _events.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await ApplyAsync(watchEvent).ConfigureAwait(false);
                if (Interlocked.Exchange(ref _rescanPending, 0) == 1)
                {
                    await ApplyAsync(new WatchEvent(WatchEventKind.Rescan, "")).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task ApplyAsync(WatchEvent watchEvent)
    {
        switch (watchEvent.Kind)
        {
            case WatchEventKind.Created:
                await OnCreatedAsync(watchEvent.Path).ConfigureAwait(false);
                break;
            case WatchEventKind.Deleted:
                await OnDeletedAsync(watchEvent.Path).ConfigureAwait(false);
                break;
            default:
                await RescanAsync().ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Every registration whose file is gone is dropped; every socket there is registered.</summary>
    private async Task RescanAsync()
    {
        string[] registered;
        lock (_stateLock)
        {
            registered = [.. _bySocket.Keys];
        }

        foreach (var path in registered)
        {
            await OnDeletedAsync(path).ConfigureAwait(false);
        }

        string[] present;
        try
        {
            present = [.. Directory.EnumerateFiles(_options.RegistrarDirectory, "*-reg.sock", SearchOption.AllDirectories)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The directory went away (a test tearing down, a node wiping it): nothing is registered from it, and the
            // loop must live on for the events that follow.
            present = [];
        }

        foreach (var path in present)
        {
            await OnCreatedAsync(path).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A socket appeared at <paramref name="path"/> (created, or renamed into place): registered unless the registration
    /// there is already on this very file; a registration on an older file at the path is replaced.
    /// </summary>
    private async Task OnCreatedAsync(string path)
    {
        if (Path.GetFileName(path).StartsWith('.'))
        {
            return;
        }

        var identity = SocketFileIdentity.Of(path);
        RegisteredDraPlugin? stale = null;
        lock (_stateLock)
        {
            if (_stopping.IsCancellationRequested || identity is null
                || (_bySocket.ContainsKey(path) && _identities.GetValueOrDefault(path) == identity.Value))
            {
                // Gone again (its "deleted" is queued behind), or already registered on this file (a direct
                // RegisterAsync or an earlier attempt got there first).
                return;
            }

            if (_bySocket.TryRemove(path, out stale))
            {
                _identities.Remove(path);
            }

            StartAttempt(path);
        }

        await DropAsync(path, stale).ConfigureAwait(false);
    }

    /// <summary>
    /// A socket left <paramref name="path"/>. The registration there goes only when its own file is gone: when the path
    /// already names a newer file, this is the old file's late event, and the newer registration stays.
    /// </summary>
    private async Task OnDeletedAsync(string path)
    {
        RegisteredDraPlugin? removed = null;
        lock (_stateLock)
        {
            var now = SocketFileIdentity.Of(path);
            if (_bySocket.ContainsKey(path) && _identities.GetValueOrDefault(path) != now)
            {
                _bySocket.TryRemove(path, out removed);
                _identities.Remove(path);
            }

            if (now is null && _attempts.Remove(path, out var attempt))
            {
                // Nothing left to register: stop retrying now rather than at the next backoff step.
                attempt.Cancel.Cancel();
                _ = attempt.Task.ContinueWith(static (_, c) => ((CancellationTokenSource)c!).Dispose(), attempt.Cancel, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }

        await DropAsync(path, removed).ConfigureAwait(false);
    }

    /// <summary>Starts (or restarts) the one registration attempt of a path. Caller holds _stateLock.</summary>
    private void StartAttempt(string path)
    {
        if (_attempts.Remove(path, out var previous))
        {
            previous.Cancel.Cancel();
            _ = previous.Task.ContinueWith(static (_, c) => ((CancellationTokenSource)c!).Dispose(), previous.Cancel, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var task = Task.Run(() => RegisterQuietlyAsync(path, cancel.Token), CancellationToken.None);
        _attempts[path] = (cancel, task);
    }

    private async Task DropAsync(string path, RegisteredDraPlugin? plugin)
    {
        if (plugin is not null)
        {
            LogDeregistered(plugin.DriverName, path);
            await plugin.DisposeAsync().ConfigureAwait(false);
        }
    }
}
