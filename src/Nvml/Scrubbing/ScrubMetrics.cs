using SecureDra.Observability.Metrics;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>The scrubber's Prometheus series (evidence for invariant 5).</summary>
public sealed class ScrubMetrics
{
    private readonly Counter _scrubs;
    private readonly Counter _bytes;
    private readonly Histogram _duration;
    private readonly Counter _uncovered;
    private readonly Histogram _size;
    private readonly Histogram _coverage;

    public ScrubMetrics(MetricsRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _scrubs = registry.Counter("securedra_scrubs_total", "VRAM scrubs by outcome (succeeded, failed, refused).", "backend", "outcome");
        _bytes = registry.Counter("securedra_scrub_bytes_total", "Bytes zeroed and verified by VRAM scrubs.", "backend");
        _uncovered = registry.Counter("securedra_scrub_uncovered_bytes_total",
            "Bytes of device memory VRAM scrubs did not zero, by why: reserved_baseline (the device's measured context reservation) or not_allocatable (anything beyond it).",
            "backend", "reason");
        _duration = registry.Histogram("securedra_scrub_duration_seconds", "Wall time of VRAM scrubs.", MetricsRegistry.SecondsBuckets, "backend", "outcome");
        _size = registry.Histogram("securedra_scrub_size_bytes", "Bytes each VRAM scrub zeroed and verified.", MetricsRegistry.BytesBuckets, "backend", "outcome");
        _coverage = registry.Histogram("securedra_scrub_coverage_ratio", "Fraction of the device's total memory each VRAM scrub zeroed and verified.", MetricsRegistry.CoverageBuckets, "backend", "outcome");
    }

    public void Record(string backend, ScrubReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var outcome = report.Succeeded ? "succeeded" : "failed";
        _scrubs.Inc(backend, outcome);
        _bytes.Add(report.BytesZeroed, backend);
        _uncovered.Add(report.BaselineReservedBytes, backend, "reserved_baseline");
        _uncovered.Add(report.UnallocatableBytes, backend, "not_allocatable");
        _duration.Observe(report.TotalDuration.TotalSeconds, backend, outcome);
        _size.Observe(report.BytesZeroed, backend, outcome);
        _coverage.Observe(report.Coverage, backend, outcome);
    }

    public void RecordRefused(string backend) => _scrubs.Inc(backend, "refused");
}
