using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Tests.Metrics;

/// <summary>The registry bounds every family, so a metric added later cannot be grown by whoever picks a label value.</summary>
public sealed class MetricsRegistryBoundsTests
{
    [Fact]
    public void A_family_never_holds_more_than_its_series_limit_plus_one_overflow_series()
    {
        var registry = new MetricsRegistry(new LabelLimits { MaxSeriesPerFamily = 8 });
        var counter = registry.Counter("t_requests_total", "test", "path");
        for (var i = 0; i < 10_000; i++)
        {
            counter.Inc($"/attacker/{i}");
        }

        Assert.Equal(9, registry.SeriesCount("t_requests_total"));
        Assert.Equal(10_000 - 8, counter.Value("other"));
        Assert.Equal(10_000 - 8, registry.Counter("securedra_metric_label_overflow_total", "ignored", "metric").Value("t_requests_total"));
    }

    [Fact]
    public void Long_or_unsafe_values_are_recorded_as_other_and_never_rendered()
    {
        var registry = new MetricsRegistry();
        var gauge = registry.Gauge("t_gauge", "test", "name");
        var histogram = registry.Histogram("t_seconds", "test", [1], "name");
        var huge = new string('x', 2_500_000);
        gauge.Set(1, huge);
        gauge.Set(2, "a\"} 1\nevil_metric 1");
        gauge.Set(3, "tab\there");
        histogram.Observe(0.5, huge);

        var text = registry.Render();
        Assert.True(text.Length < 4096, $"rendered {text.Length} characters");
        Assert.DoesNotContain("evil_metric", text, StringComparison.Ordinal);
        Assert.Contains("t_gauge{name=\"other\"} 3", text, StringComparison.Ordinal);
        Assert.Contains("t_seconds_count{name=\"other\"} 1", text, StringComparison.Ordinal);
        Assert.Equal(1, registry.SeriesCount("t_gauge"));
    }

    [Fact]
    public void Reading_a_value_never_creates_a_series()
    {
        var registry = new MetricsRegistry(new LabelLimits { MaxSeriesPerFamily = 2 });
        var counter = registry.Counter("t_total", "test", "k");
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(0, counter.Value($"v{i}"));
        }

        Assert.Equal(0, registry.SeriesCount("t_total"));
    }

    [Fact]
    public void Values_written_in_code_are_kept_as_they_are()
    {
        var registry = new MetricsRegistry();
        var counter = registry.Counter("t_grpc_total", "test", "service", "method", "code");
        counter.Inc("v1.DRAPlugin", "/v1.DRAPlugin/NodePrepareResources", "OK");
        Assert.Contains("t_grpc_total{service=\"v1.DRAPlugin\",method=\"/v1.DRAPlugin/NodePrepareResources\",code=\"OK\"} 1", registry.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_closed_set_maps_everything_else_to_other()
    {
        var set = new ClosedSet("CREATE", "UPDATE");
        Assert.Equal("CREATE", set.Map("CREATE"));
        Assert.Equal("other", set.Map("create"));
        Assert.Equal("other", set.Map(null));
        Assert.Equal("other", set.Map(new string('A', 1000)));
    }

    [Fact]
    public void Nonsense_limits_are_refused_at_construction()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MetricsRegistry(new LabelLimits { MaxSeriesPerFamily = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MetricsRegistry(new LabelLimits { MaxValueLength = 2 }));
    }
}
