using System.Globalization;
using System.Text.RegularExpressions;
using SecureDra.KubeletPlugin.Tests.Pipeline;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.Proxy;

/// <summary>
/// The proxy host's /metrics registry: the standard families under component "proxy" (not "kubelet-plugin", so
/// dashboards tell the modes apart) and the inventory gauges of plugin mode, following a claim and a failed scrub.
/// </summary>
public sealed class ProxyMetricsTests
{
    [Fact]
    public async Task The_proxy_renders_standard_metrics_as_proxy_and_its_gauges_follow_the_inventory()
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();

        var text = h.Metrics.Render();
        foreach (var family in new[] { "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds", "dotnet_gc_heap_size_bytes" })
        {
            Assert.Contains($"# TYPE {family} ", text, StringComparison.Ordinal);
        }

        Assert.Matches(@"securedra_build_info\{component=""proxy"",version=""[^""]+"",commit=""[^""]+"",runtime=""[^""]+""\} 1\n", text);
        Assert.DoesNotContain("component=\"kubelet-plugin\"", text, StringComparison.Ordinal);
        Assert.Equal(0, Value(text, "securedra_prepared_devices"));
        Assert.Equal(2, Value(text, "securedra_devices{state=\"clean\"}"));

        h.Claim(1, 0);
        Assert.Equal("", (await kubelet.PrepareAsync([ProxyHarness.K(1)]))[TestClaims.Uid(1)].Error);
        Assert.Equal(1, Value(h.Metrics.Render(), "securedra_prepared_devices"));

        // A release whose scrub never verifies: the GPU is withdrawn, and the gauge the alert watches says so.
        h.Scrubber.Plan("gpu-0", [.. Enumerable.Repeat(ScrubBehavior.NotVerified, 1000)]);
        Assert.Equal("", (await kubelet.UnprepareAsync([ProxyHarness.K(1)]))[TestClaims.Uid(1)]);
        text = h.Metrics.Render();
        Assert.Equal(0, Value(text, "securedra_prepared_devices"));
        Assert.Equal(1, Value(text, "securedra_withdrawn_devices{reason=\"scrub_failed\"}"));
        Assert.Equal(0, Value(text, "securedra_withdrawn_devices{reason=\"unhealthy\"}"));
    }

    private static double Value(string text, string series)
    {
        var match = Regex.Match(text, "^" + Regex.Escape(series) + " (?<v>[^\\n]+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"{series} not in:\n{text}");
        return double.Parse(match.Groups["v"].Value, CultureInfo.InvariantCulture);
    }
}
