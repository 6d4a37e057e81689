using SecureDra.Observability.Metrics;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// The one home of the scrub series (evidence for invariant 5). A scrub happens in the GPU layer, so it is counted
/// here, once, whoever asked for it: the caller's reason is the closed <c>trigger</c> label (<see cref="ScrubTrigger"/>),
/// how it ended the closed <c>outcome</c> label (<see cref="ScrubVerdict"/>), and <c>target</c> says whether a whole
/// GPU or one MIG instance was scrubbed. The plugin keeps no scrub series of its own.
/// </summary>
public sealed class ScrubMetrics
{
    /// <summary>The <c>target</c> label of a whole-GPU scrub (<see cref="VramScrubber"/>).</summary>
    public const string Gpu = "gpu";

    /// <summary>The <c>target</c> label of a per-instance scrub (<see cref="MigInstanceScrubber"/>).</summary>
    public const string MigInstance = "mig_instance";

    private readonly Counter _scrubs;
    private readonly Counter _bytes;
    private readonly Histogram _duration;
    private readonly Counter _uncovered;
    private readonly Histogram _size;
    private readonly Histogram _coverage;

    public ScrubMetrics(MetricsRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _scrubs = registry.Counter("securedra_scrubs_total",
            "Scrubs by target (gpu, mig_instance), trigger (release, retry, startup, health, cli) and outcome (verified, not_verified, refused, timeout, error, wrong_device, rejected); in the plugin anything but verified keeps the device withdrawn.",
            "backend", "target", "trigger", "outcome");
        _bytes = registry.Counter("securedra_scrub_bytes_total", "Bytes zeroed and verified by scrubs.", "backend", "target", "trigger");
        _duration = registry.Histogram("securedra_scrub_duration_seconds",
            "Wall time of scrubs, waiting for the device's previous scrub included (a release waits for all of it).",
            MetricsRegistry.SecondsBuckets, "backend", "target", "trigger", "outcome");
        _uncovered = registry.Counter("securedra_scrub_uncovered_bytes_total",
            "Bytes of device memory whole-GPU scrubs did not zero, by why: reserved_baseline (the device's measured context reservation) or not_allocatable (anything beyond it).",
            "backend", "reason");
        _size = registry.Histogram("securedra_scrub_size_bytes", "Bytes each whole-GPU scrub zeroed and verified.", MetricsRegistry.BytesBuckets, "backend", "outcome");
        _coverage = registry.Histogram("securedra_scrub_coverage_ratio", "Fraction of the device's total memory each whole-GPU scrub zeroed and verified.", MetricsRegistry.CoverageBuckets, "backend", "outcome");
    }

    /// <summary>One whole-GPU scrub, from its report.</summary>
    public void Record(string backend, ScrubTrigger trigger, ScrubReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var outcome = ScrubLabels.Of(report.Verdict);
        Record(backend, Gpu, trigger, report.Verdict, report.Verdict == ScrubVerdict.Verified ? report.BytesZeroed : 0, report.TotalDuration);
        if (report.Verdict is ScrubVerdict.Refused)
        {
            // Nothing was touched: no coverage to describe.
            return;
        }

        _uncovered.Add(report.BaselineReservedBytes, backend, "reserved_baseline");
        _uncovered.Add(report.UnallocatableBytes, backend, "not_allocatable");
        _size.Observe(report.BytesZeroed, backend, outcome);
        _coverage.Observe(report.Coverage, backend, outcome);
    }

    /// <summary>One scrub of <paramref name="target"/> (<see cref="Gpu"/> or <see cref="MigInstance"/>).</summary>
    public void Record(string backend, string target, ScrubTrigger trigger, ScrubVerdict verdict, long bytesVerified, TimeSpan duration)
    {
        if (target is not (Gpu or MigInstance))
        {
            throw new ArgumentOutOfRangeException(nameof(target), target, "not a scrub target label");
        }

        var triggerLabel = ScrubLabels.Of(trigger);
        var outcome = ScrubLabels.Of(verdict);
        _scrubs.Inc(backend, target, triggerLabel, outcome);
        _bytes.Add(Math.Max(0, bytesVerified), backend, target, triggerLabel);
        _duration.Observe(duration.TotalSeconds, backend, target, triggerLabel, outcome);
    }
}
