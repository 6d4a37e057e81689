namespace SecureDra.Kube.Retry;

/// <summary>
/// Exponential backoff with jitter and a cap, for one retry loop (not thread-safe by design: each
/// loop owns its own). Delays run on the given <see cref="TimeProvider"/> so tests control time.
/// </summary>
public sealed class Backoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly double _factor;
    private readonly double _jitter;
    private readonly TimeProvider _time;
    private readonly Func<double> _random;
    private TimeSpan _next;

    /// <param name="jitter">Fraction of each delay added at random: 0.2 turns 1 s into 1–1.2 s.</param>
    /// <param name="random">Returns [0, 1); defaults to <see cref="Random.Shared"/>.</param>
    public Backoff(TimeSpan initial, TimeSpan max, double factor = 2.0, double jitter = 0.2, TimeProvider? timeProvider = null, Func<double>? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, initial);
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1.0);
        ArgumentOutOfRangeException.ThrowIfNegative(jitter);
        _initial = initial;
        _max = max;
        _factor = factor;
        _jitter = jitter;
        _time = timeProvider ?? TimeProvider.System;
        _random = random ?? Random.Shared.NextDouble;
        _next = initial;
    }

    /// <summary>Failures since the last <see cref="Reset"/>.</summary>
    public int Attempts { get; private set; }

    /// <summary>The next delay (jittered, never above the cap), and advances.</summary>
    public TimeSpan Next()
    {
        var baseDelay = _next;
        var jittered = baseDelay + TimeSpan.FromTicks((long)(baseDelay.Ticks * _jitter * _random()));
        var delay = jittered > _max ? _max : jittered;
        var grown = TimeSpan.FromTicks((long)Math.Min(_max.Ticks, baseDelay.Ticks * _factor));
        _next = grown;
        Attempts++;
        return delay;
    }

    /// <summary>Waits the next delay.</summary>
    public Task DelayAsync(CancellationToken cancellationToken) => Task.Delay(Next(), _time, cancellationToken);

    /// <summary>After a success: start from the initial delay again.</summary>
    public void Reset()
    {
        _next = _initial;
        Attempts = 0;
    }
}
