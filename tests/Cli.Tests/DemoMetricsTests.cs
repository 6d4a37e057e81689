using System.Diagnostics;
using System.Text.RegularExpressions;

namespace SecureDra.Cli.Tests;

/// <summary>
/// Scrapes the real plugin's <c>/metrics</c> in the simulated demo set-up (<c>securedra demo --keep-running</c>, the
/// URL it prints): the standard families, the inventory gauges after the demo's GPU failure, and every plugin metric
/// the PrometheusRule's alerts read, so an alert cannot watch a name the plugin does not export.
/// </summary>
public sealed partial class DemoMetricsTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("securedra-demo-metrics-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task The_plugin_exports_what_the_alerts_read_and_the_standard_families()
    {
        var start = SecuredraProcess.StartInfo(["demo", "--keep-running", "--simulated-gpus", "3", "--simulated-memory", "2Mi", "--work-dir", _work], dll: Path.Combine(AppContext.BaseDirectory, "securedra.dll"));

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        string? url = null;
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line && !line.Contains("Press Ctrl+C to stop.", StringComparison.Ordinal))
            {
                if (MetricsUrl().Match(line) is { Success: true } match)
                {
                    url = match.Value;
                }
            }

            Assert.True(url is not null, $"no metrics URL printed; stderr: {(process.HasExited ? await stderr : "")}");
            using var http = new HttpClient();
            var text = await http.GetStringAsync(new Uri(url!), deadline.Token);

            foreach (var family in new[] { "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds",
                         "dotnet_gc_heap_size_bytes", "dotnet_threadpool_threads", "securedra_prepared_devices", "securedra_withdrawn_devices", "securedra_devices",
                         "securedra_grpc_server_in_flight", "securedra_scrub_size_bytes", "securedra_scrub_coverage_ratio" })
            {
                Assert.Contains($"# TYPE {family} ", text, StringComparison.Ordinal);
            }

            Assert.Matches(@"securedra_build_info\{component=""kubelet-plugin"",version=""[^""]+"",commit=""[^""]+"",runtime=""[^""]+""\} 1\n", text);
            // The demo's Xid 79 took gpu-1 off the bus; every claim was released again.
            Assert.Equal(1, StandardMetricsTests.Value(text, "securedra_withdrawn_devices{reason=\"unhealthy\"}"));
            Assert.Equal(0, StandardMetricsTests.Value(text, "securedra_withdrawn_devices{reason=\"scrub_failed\"}"));
            Assert.Equal(0, StandardMetricsTests.Value(text, "securedra_prepared_devices"));
            var states = new[] { "unknown", "scrubbing", "clean", "reserved", "prepared", "releasing", "dirty" };
            Assert.Equal(3, states.Sum(state => StandardMetricsTests.Value(text, $"securedra_devices{{state=\"{state}\"}}")));

            var rules = await File.ReadAllTextAsync(Path.Combine(CliProcess.RepoRoot, "deploy", "helm", "securedra", "templates", "prometheusrule.yaml"));
            var read = RuleMetric().Matches(rules).Select(m => HistogramSeries().Replace(m.Value, "")).ToHashSet(StringComparer.Ordinal);
            // The controller's families (admission reviews, audits) are exported by the controller, not the plugin.
            var plugin = read.Where(name => !name.StartsWith("securedra_admission_", StringComparison.Ordinal) && !name.StartsWith("securedra_audit_", StringComparison.Ordinal)).ToList();
            Assert.True(plugin.Count >= 4, string.Join(", ", read));
            Assert.All(plugin, name => Assert.Contains($"# TYPE {name} ", text, StringComparison.Ordinal));
            // A _bucket series belongs to a histogram only; the family the scrub alerts used to read is gone.
            Assert.All(RuleMetric().Matches(rules).Select(m => m.Value).Where(n => n.EndsWith("_bucket", StringComparison.Ordinal) && plugin.Contains(HistogramSeries().Replace(n, ""))),
                name => Assert.Contains($"# TYPE {HistogramSeries().Replace(name, "")} histogram\n", text, StringComparison.Ordinal));
            Assert.DoesNotContain("securedra_release_scrub_failures_total", text, StringComparison.Ordinal);

            // No log line for the scrape: framework request lines are filtered.
            var log = await File.ReadAllTextAsync(Path.Combine(_work, "securedra.log"), deadline.Token);
            Assert.DoesNotContain("/metrics", log, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                {
                    await kill.WaitForExitAsync();
                }

                using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                try
                {
                    await process.WaitForExitAsync(exit.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
        }
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:[1-9][0-9]*/metrics")]
    private static partial Regex MetricsUrl();

    [GeneratedRegex(@"\bsecuredra_[a-z0-9_]+")]
    private static partial Regex RuleMetric();

    [GeneratedRegex(@"_(bucket|sum|count)$")]
    private static partial Regex HistogramSeries();
}
