using System.Buffers;
using System.Text;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Tests.Metrics;

/// <summary>
/// The exposition is written straight into the response's buffer (no string per scrape): it must stay the exact
/// text format Prometheus parses, whatever the size of the buffer segments it is written into.
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

    [Fact]
    public void Writing_into_tiny_buffer_segments_gives_the_same_bytes()
    {
        var registry = Sample();
        var tiny = new TinySegmentWriter();
        registry.RenderTo(tiny);
        Assert.Equal(Encoding.UTF8.GetBytes(Expected), tiny.Written.ToArray());
        Assert.True(tiny.Segments > 20, $"only {tiny.Segments} segments: the test did not exercise small buffers");
    }

    [Fact]
    public void A_scrape_allocates_far_less_than_the_text_it_writes()
    {
        // The point of RenderTo (docs/performance.md §8): a scrape of a realistic registry must not build the text as
        // strings. A StringBuilder plus its string costs at least four times the output (UTF-16, twice), before the
        // per-line label strings; what remains is the per-family ordering and histogram snapshots (about 0.6 × here).
        var registry = new MetricsRegistry();
        for (var f = 0; f < 10; f++)
        {
            var counter = registry.Counter($"t_counter_{f}_total", "A counter family.", "code");
            foreach (var code in new[] { "OK", "Unavailable", "Internal" })
            {
                counter.Inc(code);
            }
        }

        for (var f = 0; f < 5; f++)
        {
            var histogram = registry.Histogram($"t_hist_{f}_seconds", "A histogram family.", MetricsRegistry.LatencyBuckets, "op");
            histogram.Observe(0.003, "prepare");
            histogram.Observe(0.3, "unprepare");
        }

        var output = new ArrayBufferWriter<byte>(64 * 1024);
        registry.RenderTo(output);
        output.ResetWrittenCount();
        var before = GC.GetAllocatedBytesForCurrentThread();
        registry.RenderTo(output);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(output.WrittenCount > 8_000, $"wrote only {output.WrittenCount} bytes");
        Assert.True(allocated < output.WrittenCount, $"allocated {allocated} bytes to write {output.WrittenCount}");
    }

    /// <summary>Hands out at most 7 bytes beyond what is asked for, like a pipe near the end of a segment.</summary>
    private sealed class TinySegmentWriter : IBufferWriter<byte>
    {
        private readonly ArrayBufferWriter<byte> _all = new();
        private byte[] _current = [];

        public int Segments { get; private set; }

        public ReadOnlyMemory<byte> Written => _all.WrittenMemory;

        public void Advance(int count) => _all.Write(_current.AsSpan(0, count));

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Segments++;
            _current = new byte[Math.Max(sizeHint, 1) + (Segments % 8)];
            return _current;
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }
}
