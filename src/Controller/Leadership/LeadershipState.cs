using SecureDra.Observability.Changes;

namespace SecureDra.Controller.Leadership;

/// <summary>
/// Whether this process leads now, and a token per term that is cancelled the moment leadership is lost, so
/// leader-only work (the audit loop) stops before another replica can start. Waiters sleep on a
/// <see cref="ChangeSignal"/> like every other state holder's, signalled when a term starts or ends.
/// </summary>
public sealed class LeadershipState
{
    private readonly Lock _lock = new();
    private readonly ChangeSignal _changed = new();
    private CancellationTokenSource? _term;

    public bool IsLeader
    {
        get { lock (_lock) { return _term is not null; } }
    }

    /// <summary>Completes when this process leads; the token fires when that term ends.</summary>
    public async Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken)
    {
        var term = CancellationToken.None;
        await _changed.WaitUntilAsync(() => TryGetTerm(out term), cancellationToken).ConfigureAwait(false);
        return term;
    }

    internal void Started()
    {
        lock (_lock)
        {
            if (_term is not null)
            {
                return;
            }

            _term = new CancellationTokenSource();
        }

        _changed.Signal();
    }

    internal void Stopped()
    {
        CancellationTokenSource? term;
        lock (_lock)
        {
            term = _term;
            _term = null;
        }

        if (term is not null)
        {
            term.Cancel();
            term.Dispose();
            _changed.Signal();
        }
    }

    /// <summary>The current term's token, read under the lock so it is never taken from a disposed source.</summary>
    private bool TryGetTerm(out CancellationToken token)
    {
        lock (_lock)
        {
            token = _term?.Token ?? CancellationToken.None;
            return _term is not null;
        }
    }
}
