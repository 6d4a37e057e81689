using System.Globalization;
using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// Every PrometheusRule alert is FIRED by feeding the metric it watches, and stays quiet on a near miss: the
/// rendered rules are evaluated by js/promql-eval.mjs (the lezer PromQL grammar plus an evaluator for exactly the
/// functions the rules use) over synthetic series scraped every 30 s, with the chart's default thresholds.
/// </summary>
/// <remarks>
/// Why not a Prometheus: none is available here (no binary in the tools, no network), and <c>promtool test rules</c>
/// would need one. The evaluator refuses any function, operator or modifier it does not know, so a rule that
/// starts using one fails here until the evaluator learns it; each alert has a case that must NOT fire, so an
/// evaluator that fired on everything would fail too.
/// </remarks>
[Collection(ChartCollection.Name)]
public sealed class AlertFiringTests(RenderedChart chart)
{
    private const int Scrape = 30;
    private const int Hour = 3600;
    private static readonly string Ns = RenderedChart.Namespace;

    /// <summary>The admission histogram's buckets (MetricsRegistry.LatencyBuckets) and the scrub's (SecondsBuckets).</summary>
    private static readonly double[] LatencyBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    private static readonly double[] SecondsBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600];

    private static readonly string[] Alerts =
    [
        "SecureDraScrubFailed", "SecureDraDeviceWithdrawn", "SecureDraCcDevToolsMode", "SecureDraScrubSlow", "SecureDraConfigRejectionsSurging",
        "SecureDraAuditorFailing", "SecureDraAuditFindings", "SecureDraWebhookErrors", "SecureDraWebhookSlow", "SecureDraVramCanaryFailed",
    ];

    [Fact]
    public void Every_alert_fires_exactly_when_its_metric_says_so()
    {
        var rules = chart.TempFile($"firing-rules-{Guid.NewGuid():N}.yaml", RenderedChart.Render(Ns,
            "--set", "metrics.prometheusRule.enabled=true", "--set", "canary.enabled=true"));
        var cases = AllCases();
        var input = new JsonArray([.. cases.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Name,
            ["alert"] = c.Alert,
            ["at"] = c.At,
            ["series"] = new JsonArray([.. c.Series.Select(s => (JsonNode)s.DeepClone())]),
        })]);
        var file = chart.TempFile($"firing-cases-{Guid.NewGuid():N}.json", input.ToJsonString());
        var results = JsonNode.Parse(Tool.Node("promql-eval.mjs", rules, file))!.AsArray()
            .ToDictionary(r => (string)r!["name"]!, r => ((bool)r!["fires"]!, r["steps"]!.ToJsonString()));

        var wrong = cases.Where(c => results[c.Name].Item1 != c.Fires)
            .Select(c => $"{c.Alert} / {c.Name}: expected {(c.Fires ? "firing" : "quiet")}; non-empty results per evaluation: {results[c.Name].Item2}")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Equal(cases.Count, results.Count);
    }

    [Fact]
    public void Every_alert_has_a_case_that_fires_and_one_that_does_not()
    {
        var cases = AllCases();
        foreach (var alert in Alerts)
        {
            Assert.Contains(cases, c => c.Alert == alert && c.Fires);
            Assert.Contains(cases, c => c.Alert == alert && !c.Fires);
        }
    }

    [Fact]
    public void The_evaluator_refuses_what_it_does_not_understand()
    {
        var rules = chart.TempFile("unknown-function.yaml", """
            apiVersion: monitoring.coreos.com/v1
            kind: PrometheusRule
            metadata: {name: x}
            spec:
              groups:
                - name: x
                  rules:
                    - alert: Odd
                      expr: predict_linear(securedra_withdrawn_devices[1h], 3600) > 0
            """);
        var cases = chart.TempFile("unknown-function-cases.json", """[{"name": "odd", "alert": "Odd", "at": 3600, "series": []}]""");
        var error = Assert.ThrowsAny<Exception>(() => Tool.Node("promql-eval.mjs", rules, cases));
        Assert.Contains("predict_linear", error.Message, StringComparison.Ordinal);
    }

    private sealed record Case(string Alert, string Name, bool Fires, int At, IReadOnlyList<JsonObject> Series);

    private static List<Case> AllCases()
    {
        var plugin = new Dictionary<string, string> { ["namespace"] = Ns, ["pod"] = "securedra-kubelet-plugin-abcde", ["node"] = "gpu-node-1" };
        var controller = new Dictionary<string, string> { ["namespace"] = Ns, ["pod"] = "securedra-controller-12345" };
        var other = new Dictionary<string, string> { ["namespace"] = "someone-else", ["pod"] = "p", ["node"] = "n" };
        return
        [
            // A scrub failed 5 minutes ago / the last failure was 40 minutes ago / in another release's namespace / only verified scrubs.
            new("SecureDraScrubFailed", "scrub failed 5m ago", true, Hour,
                [Counter("securedra_scrubs_total", Scrub(plugin, "release", "not_verified"), t => t >= Hour - 300 ? 1 : 0)]),
            new("SecureDraScrubFailed", "retry scrub timed out 5m ago", true, Hour,
                [Counter("securedra_scrubs_total", Scrub(plugin, "retry", "timeout"), t => t >= Hour - 300 ? 1 : 0)]),
            new("SecureDraScrubFailed", "scrub failed 40m ago", false, Hour,
                [Counter("securedra_scrubs_total", Scrub(plugin, "release", "not_verified"), t => t >= Hour - 2400 ? 1 : 0)]),
            new("SecureDraScrubFailed", "scrub failed in another namespace", false, Hour,
                [Counter("securedra_scrubs_total", Scrub(other, "release", "not_verified"), t => t >= Hour - 300 ? 1 : 0)]),
            new("SecureDraScrubFailed", "only verified scrubs", false, Hour,
                [Counter("securedra_scrubs_total", Scrub(plugin, "release", "verified"), t => t / 60)]),

            // Withdrawn for 30 minutes (default 15) / for 10 minutes / in MIG mode for an hour (the operator's choice).
            new("SecureDraDeviceWithdrawn", "withdrawn 30m", true, Hour,
                [Gauge("securedra_withdrawn_devices", With(plugin, "reason", "scrub_failed"), t => t >= Hour - 1800 ? 1 : 0)]),
            new("SecureDraDeviceWithdrawn", "withdrawn 10m", false, Hour,
                [Gauge("securedra_withdrawn_devices", With(plugin, "reason", "unhealthy"), t => t >= Hour - 600 ? 1 : 0)]),
            new("SecureDraDeviceWithdrawn", "mig mode 1h", false, Hour,
                [Gauge("securedra_withdrawn_devices", With(plugin, "reason", "mig_mode_enabled"), _ => 1)]),

            // Devtools mode on for an hour / for 2 minutes / CC on without devtools.
            new("SecureDraCcDevToolsMode", "devtools 1h", true, Hour,
                [Gauge("securedra_cc_state", With(plugin, "field", "devtools_mode"), _ => 1)]),
            new("SecureDraCcDevToolsMode", "devtools 2m", false, Hour,
                [Gauge("securedra_cc_state", With(plugin, "field", "devtools_mode"), t => t >= Hour - 120 ? 1 : 0)]),
            new("SecureDraCcDevToolsMode", "cc on, devtools off", false, Hour,
                [Gauge("securedra_cc_state", With(plugin, "field", "devtools_mode"), _ => 0), Gauge("securedra_cc_state", With(plugin, "field", "cc_enabled"), _ => 1)]),

            // One release scrub a minute, all taking ~40 s (threshold 30 s) / all ~2 s / slow retries, which no Unprepare waits for.
            new("SecureDraScrubSlow", "scrubs take 40s", true, Hour,
                Histogram("securedra_scrub_duration_seconds", Scrub(plugin, "release", "verified"), SecondsBuckets, 40, perMinute: 1)),
            new("SecureDraScrubSlow", "scrubs take 2s", false, Hour,
                Histogram("securedra_scrub_duration_seconds", Scrub(plugin, "release", "verified"), SecondsBuckets, 2, perMinute: 1)),
            new("SecureDraScrubSlow", "retry scrubs take 40s", false, Hour,
                Histogram("securedra_scrub_duration_seconds", Scrub(plugin, "retry", "verified"), SecondsBuckets, 40, perMinute: 1)),

            // 1 rejection/s at Prepare, no webhook series at all (the `or vector(0)`) / 1 denial/s at the webhook / 0.1/s.
            new("SecureDraConfigRejectionsSurging", "prepare rejections 1/s", true, Hour,
                [Counter("securedra_config_rejections_total", plugin, t => t)]),
            new("SecureDraConfigRejectionsSurging", "webhook denials 1/s", true, Hour,
                [Counter("securedra_admission_reviews_total", With(controller, "result", "denied"), t => t)]),
            new("SecureDraConfigRejectionsSurging", "rejections 0.1/s", false, Hour,
                [Counter("securedra_config_rejections_total", plugin, t => t / 10), Counter("securedra_admission_reviews_total", With(controller, "result", "denied"), t => t / 10)]),

            // Audit runs ended in error for the last 30 minutes and none finished / errors, but also clean runs.
            new("SecureDraAuditorFailing", "only errors", true, Hour,
                [Counter("securedra_audit_runs_total", With(controller, "result", "error"), t => t / 300), Counter("securedra_audit_runs_total", With(controller, "result", "clean"), t => Math.Min(t, 1200) / 300)]),
            new("SecureDraAuditorFailing", "errors and clean runs", false, Hour,
                [Counter("securedra_audit_runs_total", With(controller, "result", "error"), t => t / 600), Counter("securedra_audit_runs_total", With(controller, "result", "clean"), t => t / 600)]),

            // Findings for an hour (for: 30m) / for 20 minutes / none.
            new("SecureDraAuditFindings", "findings 1h", true, Hour,
                [Gauge("securedra_audit_findings", With(With(controller, "check", "rbac-wildcard"), "severity", "high"), _ => 2)]),
            new("SecureDraAuditFindings", "findings 20m", false, Hour,
                [Gauge("securedra_audit_findings", With(With(controller, "check", "rbac-wildcard"), "severity", "high"), t => t >= Hour - 1200 ? 2 : 0)]),

            // 10 % of reviews end in an error (threshold 5 %) / 1 %.
            new("SecureDraWebhookErrors", "10% errors", true, Hour,
                [Counter("securedra_admission_reviews_total", With(controller, "result", "error"), t => t / 10), Counter("securedra_admission_reviews_total", With(controller, "result", "allowed"), t => t * 0.9)]),
            new("SecureDraWebhookErrors", "1% errors", false, Hour,
                [Counter("securedra_admission_reviews_total", With(controller, "result", "error"), t => t / 100), Counter("securedra_admission_reviews_total", With(controller, "result", "allowed"), t => t * 0.99)]),

            // Every review takes 2 s (threshold 1 s) / 10 ms.
            new("SecureDraWebhookSlow", "reviews take 2s", true, Hour,
                Histogram("securedra_admission_review_duration_seconds", With(controller, "resource", "resourceclaims"), LatencyBuckets, 2, perMinute: 60)),
            new("SecureDraWebhookSlow", "reviews take 10ms", false, Hour,
                Histogram("securedra_admission_review_duration_seconds", With(controller, "resource", "resourceclaims"), LatencyBuckets, 0.01, perMinute: 60)),

            // A canary Job of this release failed / succeeded / another Job failed.
            new("SecureDraVramCanaryFailed", "canary job failed", true, Hour,
                [Gauge("kube_job_status_failed", new() { ["namespace"] = Ns, ["job_name"] = "securedra-vram-canary-29012345" }, _ => 1)]),
            new("SecureDraVramCanaryFailed", "canary job ok", false, Hour,
                [Gauge("kube_job_status_failed", new() { ["namespace"] = Ns, ["job_name"] = "securedra-vram-canary-29012345" }, _ => 0)]),
            new("SecureDraVramCanaryFailed", "another job failed", false, Hour,
                [Gauge("kube_job_status_failed", new() { ["namespace"] = Ns, ["job_name"] = "nightly-backup-1" }, _ => 1)]),
        ];
    }

    private static Dictionary<string, string> With(Dictionary<string, string> labels, string name, string value) =>
        new(labels) { [name] = value };

    /// <summary>The labels of the GPU layer's scrub families (ScrubMetrics): a whole-GPU scrub on an NVIDIA node.</summary>
    private static Dictionary<string, string> Scrub(Dictionary<string, string> labels, string trigger, string outcome) =>
        new(labels) { ["backend"] = "nvidia", ["target"] = "gpu", ["trigger"] = trigger, ["outcome"] = outcome };

    /// <summary>A counter scraped every 30 s for an hour; <paramref name="total"/> gives its value at second t.</summary>
    private static JsonObject Counter(string name, Dictionary<string, string> labels, Func<double, double> total) => Series(name, labels, total);

    private static JsonObject Gauge(string name, Dictionary<string, string> labels, Func<double, double> value) => Series(name, labels, value);

    /// <summary>Cumulative <c>_bucket</c> series (plus <c>+Inf</c>) for observations of <paramref name="seconds"/>, <paramref name="perMinute"/> a minute.</summary>
    private static List<JsonObject> Histogram(string name, Dictionary<string, string> labels, double[] buckets, double seconds, int perMinute)
    {
        var series = new List<JsonObject>();
        foreach (var le in buckets.Select(b => b.ToString("R", CultureInfo.InvariantCulture)).Append("+Inf"))
        {
            var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
            series.Add(Series(name + "_bucket", With(labels, "le", le), t => seconds <= bound ? Math.Floor(t / 60 * perMinute) : 0));
        }

        return series;
    }

    private static JsonObject Series(string name, Dictionary<string, string> labels, Func<double, double> value)
    {
        var labelObject = new JsonObject { ["__name__"] = name };
        foreach (var (k, v) in labels)
        {
            labelObject[k] = v;
        }

        var samples = new JsonArray();
        for (var t = 0; t <= Hour; t += Scrape)
        {
            samples.Add(new JsonArray(t, value(t)));
        }

        return new JsonObject { ["labels"] = labelObject, ["samples"] = samples };
    }
}
