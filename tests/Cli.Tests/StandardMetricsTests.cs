using System.Globalization;
using System.Text.RegularExpressions;
using SecureDra.Observability.Metrics;

namespace SecureDra.Cli.Tests;

/// <summary>The process, runtime and build metrics every component registers under the same names.</summary>
public sealed partial class StandardMetricsTests
{
    private static readonly string[] Families =
    [
        "process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
        "process_start_time_seconds", "dotnet_gc_collections_total", "dotnet_gc_heap_size_bytes", "dotnet_gc_committed_bytes",
        "dotnet_gc_generation_size_bytes", "dotnet_gc_fragmented_bytes", "dotnet_gc_allocated_bytes_total", "dotnet_gc_pause_seconds_total", "dotnet_threadpool_threads", "dotnet_threadpool_queue_length",
        "dotnet_threadpool_completed_items_total", "securedra_build_info",
    ];

    [Fact]
    public void Every_standard_family_renders_with_a_plausible_value()
    {
        var registry = new MetricsRegistry();
        StandardMetrics.Register(registry, "test");
        var text = registry.Render();

        foreach (var family in Families)
        {
            Assert.Contains($"# TYPE {family} ", text, StringComparison.Ordinal);
        }

        Assert.True(Value(text, "process_resident_memory_bytes") > 1 << 20);
        Assert.True(Value(text, "process_virtual_memory_bytes") >= Value(text, "process_resident_memory_bytes"));
        Assert.True(Value(text, "process_open_fds") > 0);
        Assert.True(Value(text, "process_max_fds") >= Value(text, "process_open_fds"));
        Assert.True(Value(text, "process_cpu_seconds_total") > 0);
        Assert.True(Value(text, "dotnet_gc_allocated_bytes_total") > 0);
        var start = DateTimeOffset.FromUnixTimeMilliseconds((long)(Value(text, "process_start_time_seconds") * 1000));
        Assert.InRange(start, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow);
        Assert.Matches(@"securedra_build_info\{component=""test"",version=""[^""]+"",commit=""[^""]+"",runtime=""[0-9.]+""\} 1\n", text);
        Assert.Matches(@"dotnet_gc_collections_total\{generation=""2""\} [0-9]+\n", text);
    }

    [Fact]
    public void The_heap_parts_sum_to_the_heap_size_and_name_only_the_five_parts_the_runtime_has()
    {
        // After a full blocking GC every figure describes that same collection, so the parts must add up to the whole.
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var registry = new MetricsRegistry();
        StandardMetrics.Register(registry, "test");
        var text = registry.Render();

        var parts = Regex.Matches(text, @"^dotnet_gc_generation_size_bytes\{generation=""([^""]+)""\} ([0-9.e+]+)$", RegexOptions.Multiline);
        Assert.Equal(["0", "1", "2", "loh", "poh"], parts.Select(m => m.Groups[1].Value));
        var sum = parts.Sum(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        Assert.Equal(Value(text, "dotnet_gc_heap_size_bytes"), sum);
        Assert.True(sum > 0, "the test host has live objects after a full GC");
        Assert.InRange(Value(text, "dotnet_gc_fragmented_bytes"), 0, Value(text, "dotnet_gc_heap_size_bytes"));
    }

    [Fact]
    public void Registering_twice_renders_each_family_once()
    {
        var registry = new MetricsRegistry();
        StandardMetrics.Register(registry, "a");
        StandardMetrics.Register(registry, "a");

        var text = registry.Render();
        Assert.Single(Regex.Matches(text, "# TYPE process_resident_memory_bytes "));
        Assert.Single(Regex.Matches(text, "^process_resident_memory_bytes ", RegexOptions.Multiline));
    }

    [Fact]
    public void A_sampled_counter_never_goes_down()
    {
        var registry = new MetricsRegistry();
        var counter = registry.Counter("test_sampled_total", "test");
        counter.Sample(10);
        counter.Sample(4);
        Assert.Equal(10, counter.Value());
        counter.Sample(12);
        Assert.Equal(12, counter.Value());
    }

    [Fact]
    public void Scrub_histogram_buckets_suit_seconds_bytes_and_coverage()
    {
        Assert.Equal(600, MetricsRegistry.SecondsBuckets[^1]);
        Assert.Contains(30.0, MetricsRegistry.SecondsBuckets);
        Assert.Equal(256.0 * (1L << 30), MetricsRegistry.BytesBuckets[^1]);
        Assert.Equal(0.9, MetricsRegistry.CoverageBuckets[0]);
        Assert.Equal(1.0, MetricsRegistry.CoverageBuckets[^1]);
        foreach (var buckets in new[] { MetricsRegistry.SecondsBuckets, MetricsRegistry.BytesBuckets, MetricsRegistry.CoverageBuckets })
        {
            Assert.Equal(buckets.Order(), buckets);
            Assert.Equal(buckets.Distinct().Count(), buckets.Length);
        }
    }

    internal static double Value(string text, string series)
    {
        var match = Regex.Match(text, "^" + Regex.Escape(series) + " (?<v>[^\\n]+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"{series} not in:\n{text}");
        return double.Parse(match.Groups["v"].Value, CultureInfo.InvariantCulture);
    }
}
