using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Tests.Metrics;

/// <summary>
/// The exact text format Prometheus parses: ordering, labels, histogram lines, number formats, non-ASCII help. Pins the
/// exposition so a change to how it is written (docs/performance.md §10 tried writing it into the response's
/// buffer) is caught if it changes one byte.
/// </summary>
public sealed class MetricsExpositionTests
{
    private static MetricsRegistry Sample()
    {
        var registry = new MetricsRegistry();
        registry.Counter("t_b_total", "A counter, µs and all.", "code", "method").Inc("OK", "Prepare");
        registry.Counter("t_b_total", "ignored", "code", "method").Add(2.5, "Unavailable", "Prepare");
        registry.Gauge("t_a_gauge", "A gauge without labels.").Set(-0.125);
        var histogram = registry.Histogram("t_c_seconds", "A histogram.", [0.001, 1, double.PositiveInfinity], "op");
        histogram.Observe(0.5, "scrub");
        histogram.Observe(7, "scrub");
        registry.Gauge("t_d_big", "Large and small values.", "k").Set(1e21, "big");
        registry.Gauge("t_d_big", "ignored", "k").Set(double.PositiveInfinity, "inf");
        return registry;
    }

    private const string Expected =
        "# HELP securedra_metric_label_overflow_total Observations whose label values were replaced by \"other\" (value too long, unsafe characters, or the family's series limit reached), by metric.\n" +
        "# TYPE securedra_metric_label_overflow_total counter\n" +
        "# HELP t_a_gauge A gauge without labels.\n" +
        "# TYPE t_a_gauge gauge\n" +
        "t_a_gauge -0.125\n" +
        "# HELP t_b_total A counter, µs and all.\n" +
        "# TYPE t_b_total counter\n" +
        "t_b_total{code=\"OK\",method=\"Prepare\"} 1\n" +
        "t_b_total{code=\"Unavailable\",method=\"Prepare\"} 2.5\n" +
        "# HELP t_c_seconds A histogram.\n" +
        "# TYPE t_c_seconds histogram\n" +
        "t_c_seconds_bucket{op=\"scrub\",le=\"0.001\"} 0\n" +
        "t_c_seconds_bucket{op=\"scrub\",le=\"1\"} 1\n" +
        "t_c_seconds_bucket{op=\"scrub\",le=\"+Inf\"} 2\n" +
        "t_c_seconds_bucket{op=\"scrub\",le=\"+Inf\"} 2\n" +
        "t_c_seconds_sum{op=\"scrub\"} 7.5\n" +
        "t_c_seconds_count{op=\"scrub\"} 2\n" +
        "# HELP t_d_big Large and small values.\n" +
        "# TYPE t_d_big gauge\n" +
        "t_d_big{k=\"big\"} 1E+21\n" +
        "t_d_big{k=\"inf\"} +Inf\n";

    [Fact]
    public void The_exposition_is_the_exact_text_format()
    {
        Assert.Equal(Expected, Sample().Render());
    }
}
