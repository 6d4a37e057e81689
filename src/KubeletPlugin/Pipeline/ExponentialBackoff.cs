namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>Exponential backoff with jitter: attempt n waits a random time in [d/2, d], d = min(max, initial·2ⁿ⁻¹).</summary>
public sealed class ExponentialBackoff(TimeSpan initial, TimeSpan max, Random random)
{
    public TimeSpan Delay(int attempt)
    {
        if (attempt < 1)
        {
            return TimeSpan.Zero;
        }

        var exponent = Math.Min(attempt - 1, 30);
        var ceiling = Math.Min(max.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, exponent));
        double jitter;
        lock (random)
        {
            jitter = random.NextDouble();
        }

        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (0.5 * jitter)));
    }
}
