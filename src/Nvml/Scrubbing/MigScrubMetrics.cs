using SecureDra.Observability.Metrics;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// Per-instance scrub series: <c>securedra_mig_scrubs_total{backend, outcome}</c> with outcome one of
/// <see cref="Outcomes"/>, <c>securedra_mig_scrub_bytes_total{backend}</c> and <c>securedra_mig_scrub_duration_seconds{backend, outcome}</c>.
/// </summary>
public sealed class MigScrubMetrics
{
    /// <summary>The closed set of outcome labels.</summary>
    public static readonly IReadOnlyList<string> Outcomes = ["succeeded", "failed", "refused", "wrong_device", "killed", "rejected"];

    private readonly Counter _scrubs;
    private readonly Counter _bytes;
    private readonly Histogram _duration;

    public MigScrubMetrics(MetricsRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _scrubs = registry.Counter("securedra_mig_scrubs_total",
            "Per-instance MIG scrubs by outcome (succeeded, failed, refused, wrong_device, killed at the deadline, rejected report).", "backend", "outcome");
        _bytes = registry.Counter("securedra_mig_scrub_bytes_total", "Bytes of MIG instances zeroed and verified.", "backend");
        _duration = registry.Histogram("securedra_mig_scrub_duration_seconds", "Wall time of per-instance MIG scrubs, worker start to exit.", MetricsRegistry.LatencyBuckets, "backend", "outcome");
    }

    public void Record(string backend, string outcome, long bytesZeroed, TimeSpan duration)
    {
        if (!Outcomes.Contains(outcome))
        {
            throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "not a MIG scrub outcome label");
        }

        _scrubs.Inc(backend, outcome);
        _bytes.Add(bytesZeroed, backend);
        _duration.Observe(duration.TotalSeconds, backend, outcome);
    }
}
