namespace SecureDra.Kube.Events;

/// <summary>A token bucket on a <see cref="TimeProvider"/> clock: <c>burst</c> tokens, one more every <c>refill</c>. Not thread-safe; callers lock.</summary>
internal sealed class TokenBucket(int burst, TimeSpan refill, long nowTimestamp, TimeProvider time)
{
    private double _tokens = burst;
    private long _last = nowTimestamp;

    public bool TryTake(long nowTimestamp)
    {
        var elapsed = time.GetElapsedTime(_last, nowTimestamp);
        _tokens = Math.Min(burst, _tokens + (elapsed.Ticks / (double)refill.Ticks));
        _last = nowTimestamp;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            return true;
        }

        return false;
    }

    /// <summary>Full again: nothing to remember about this key.</summary>
    public bool IsFull(long nowTimestamp) =>
        _tokens + (time.GetElapsedTime(_last, nowTimestamp).Ticks / (double)refill.Ticks) >= burst;
}
