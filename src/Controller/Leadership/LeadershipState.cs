namespace SecureDra.Controller.Leadership;

/// <summary>
/// Whether this process leads now, and a token per term that is cancelled the moment leadership is lost, so
/// leader-only work (the audit loop) stops before another replica can start.
/// </summary>
public sealed class LeadershipState
{
    private readonly Lock _lock = new();
    private CancellationTokenSource? _term;
    private TaskCompletionSource<CancellationToken> _waiters = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsLeader
    {
        get { lock (_lock) { return _term is not null; } }
    }

    /// <summary>Completes when this process leads; the token fires when that term ends.</summary>
    public Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _term is not null ? Task.FromResult(_term.Token) : _waiters.Task.WaitAsync(cancellationToken);
        }
    }

    internal void Started()
    {
        TaskCompletionSource<CancellationToken> waiters;
        CancellationToken token;
        lock (_lock)
        {
            if (_term is not null)
            {
                return;
            }

            _term = new CancellationTokenSource();
            token = _term.Token;
            waiters = _waiters;
        }

        waiters.TrySetResult(token);
    }

    internal void Stopped()
    {
        CancellationTokenSource? term;
        lock (_lock)
        {
            term = _term;
            _term = null;
            if (term is not null)
            {
                _waiters = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        if (term is not null)
        {
            term.Cancel();
            term.Dispose();
        }
    }
}
