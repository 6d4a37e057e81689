namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>
/// How the node's background loops sleep: until something they watch changes, a timeout passes on the
/// <see cref="TimeProvider"/> (so tests can drive it with a fake clock), or the host stops. It returns in all
/// three cases; the caller's loop checks its stopping token. The waits that lost are cancelled and observed.
/// </summary>
internal static class ChangeOrTimeout
{
    /// <param name="changes">Each starts one wait for a change; the token it gets is cancelled when this returns.</param>
    public static async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken stoppingToken, params Func<CancellationToken, Task>[] changes)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            timeout = TimeSpan.Zero;
        }

        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var waits = new Task[changes.Length + 1];
        for (var i = 0; i < changes.Length; i++)
        {
            waits[i] = changes[i](wake.Token);
        }

        waits[^1] = Task.Delay(timeout, time, wake.Token);
        try
        {
            await Task.WhenAny(waits).ConfigureAwait(false);
        }
        finally
        {
            await wake.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(waits).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }
    }
}
