using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// The optional PrometheusRule: every expression parses with Prometheus's own PromQL grammar
/// (npm @prometheus-io/lezer-promql, js/promql.mjs), names only SecureDra metrics or named external ones,
/// and each threshold value reaches its alert. That the running plugin and controller export every SecureDra
/// metric the alerts read is checked on their /metrics (Cli.Tests DemoMetricsTests, Controller.Tests ControllerHostTests).
/// </summary>
[Collection(ChartCollection.Name)]
public sealed class AlertRuleTests(RenderedChart chart)
{
    /// <summary>Metrics from outside SecureDra an alert may read, with where they come from.</summary>
    private static readonly Dictionary<string, string> ExternalMetrics = new(StringComparer.Ordinal)
    {
        // A short-lived canary Job cannot be scraped; kube-state-metrics reports its failure.
        ["kube_job_status_failed"] = "kube-state-metrics",
    };

    private static readonly string[] ExpectedAlerts =
    [
        "SecureDraScrubFailed", "SecureDraDeviceWithdrawn", "SecureDraCcDevToolsMode", "SecureDraScrubSlow", "SecureDraConfigRejectionsSurging",
        "SecureDraAuditorFailing", "SecureDraAuditFindings", "SecureDraWebhookErrors", "SecureDraWebhookSlow", "SecureDraVramCanaryFailed",
    ];

    private string RenderFile(params string[] sets) =>
        chart.TempFile($"rules-{Guid.NewGuid():N}.yaml", RenderedChart.Render(RenderedChart.Namespace, [.. sets.SelectMany(s => new[] { "--set", s })]));

    private List<JsonObject> Analyse(params string[] sets) =>
        JsonNode.Parse(Tool.Node("promql.mjs", RenderFile(sets)))!.AsArray().Select(n => n!.AsObject()).ToList();

    [Fact]
    public void No_prometheus_rule_by_default()
    {
        Assert.Empty(chart.OfKind("PrometheusRule"));
    }

    /// <remarks>
    /// That each metric is one the product exports is checked on the running processes, not on source text: the plugin's
    /// in Cli.Tests/DemoMetricsTests (the real executable's /metrics), the controller's in Controller.Tests/ControllerHostTests.
    /// </remarks>
    [Fact]
    public void Every_alert_expression_parses_as_promql_and_reads_only_securedra_or_named_external_metrics()
    {
        var results = Analyse("metrics.prometheusRule.enabled=true", "canary.enabled=true");
        Assert.Equal(ExpectedAlerts.Order(StringComparer.Ordinal), results.Select(r => r.Str("alert")).Order(StringComparer.Ordinal));
        Assert.Contains(results, r => r.Strings("metrics").Contains("securedra_scrubs_total"));
        foreach (var r in results)
        {
            var alert = r.Str("alert");
            Assert.True(r.Strings("errors").Count == 0, $"{alert}: not valid PromQL: {string.Join("; ", r.Strings("errors"))}\n{r.Str("expr")}");
            var metrics = r.Strings("metrics");
            Assert.NotEmpty(metrics);
            foreach (var metric in metrics)
            {
                Assert.True(metric.StartsWith("securedra_", StringComparison.Ordinal) || ExternalMetrics.ContainsKey(metric),
                    $"{alert} reads {metric}, neither a SecureDra metric nor a named external one ({string.Join(", ", ExternalMetrics.Keys)})");
            }
        }
    }

    [Fact]
    public void The_parser_is_not_vacuous_it_reports_broken_expressions()
    {
        var file = chart.TempFile("broken-rule.yaml", """
            apiVersion: monitoring.coreos.com/v1
            kind: PrometheusRule
            metadata: {name: broken}
            spec:
              groups:
                - name: g
                  rules:
                    - alert: Unbalanced
                      expr: sum(rate(securedra_scrubs_total[5m]) > 0
                    - alert: BadMatcher
                      expr: rate(securedra_scrubs_total{outcome="failed"[5m])
                    - alert: Fine
                      expr: rate(securedra_scrubs_total{outcome="failed"}[5m]) > 0
            """);
        var results = JsonNode.Parse(Tool.Node("promql.mjs", file))!.AsArray().Select(n => n!.AsObject()).ToDictionary(r => r.Str("alert"));
        Assert.NotEmpty(results["Unbalanced"].Strings("errors"));
        Assert.NotEmpty(results["BadMatcher"].Strings("errors"));
        Assert.Empty(results["Fine"].Strings("errors"));
        Assert.Equal(["securedra_scrubs_total"], results["Fine"].Strings("metrics"));
    }

    [Fact]
    public void The_canary_alert_exists_only_with_the_canary_and_names_its_jobs()
    {
        Assert.DoesNotContain(Analyse("metrics.prometheusRule.enabled=true"), r => r.Str("alert") == "SecureDraVramCanaryFailed");
        var canary = Assert.Single(Analyse("metrics.prometheusRule.enabled=true", "canary.enabled=true", "fullnameOverride=acme"), r => r.Str("alert") == "SecureDraVramCanaryFailed");
        Assert.Contains("job_name=~\"acme-vram-canary-.*\"", canary.Str("expr"), StringComparison.Ordinal);
    }

    [Fact]
    public void Threshold_values_reach_their_alerts_and_every_alert_is_labelled_and_explained()
    {
        // --set-json: helm's --set turns 0.2 into a string, which the schema rightly refuses.
        var objects = RenderedChart.Parse(chart.TempFile("thresholds.yaml", RenderedChart.Render(RenderedChart.Namespace,
            "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.prometheusRule.labels.release=prom",
            "--set-json", "metrics.prometheusRule.deviceWithdrawnMinutes=7", "--set-json", "metrics.prometheusRule.scrubDurationSeconds=12",
            "--set-json", "metrics.prometheusRule.configRejectionsPerSecond=3", "--set-json", "metrics.prometheusRule.webhookErrorRatio=0.2",
            "--set-json", "metrics.prometheusRule.webhookLatencySeconds=0.75")));
        var rule = Assert.Single(objects, o => o.Str("kind") == "PrometheusRule");
        Assert.Equal("prom", rule.Str("metadata.labels.release"));
        var alerts = rule.Items("spec.groups").SelectMany(g => g.Items("rules")).ToDictionary(r => r.Str("alert"));
        Assert.Equal("7m", alerts["SecureDraDeviceWithdrawn"].Str("for"));
        Assert.EndsWith("> 12", alerts["SecureDraScrubSlow"].Str("expr"), StringComparison.Ordinal);
        Assert.EndsWith("> 3", alerts["SecureDraConfigRejectionsSurging"].Str("expr"), StringComparison.Ordinal);
        Assert.EndsWith("> 0.2", alerts["SecureDraWebhookErrors"].Str("expr"), StringComparison.Ordinal);
        Assert.EndsWith("> 0.75", alerts["SecureDraWebhookSlow"].Str("expr"), StringComparison.Ordinal);
        foreach (var (name, alert) in alerts)
        {
            Assert.Contains(alert.Str("labels.severity"), new[] { "warning", "critical" });
            Assert.False(string.IsNullOrWhiteSpace(alert.Str("annotations.summary")), $"{name} has no summary");
            Assert.False(string.IsNullOrWhiteSpace(alert.Str("annotations.description")), $"{name} has no description");

            // Scoped to this release's namespace, so two installs do not alert on each other.
            Assert.Contains($"namespace=\"{RenderedChart.Namespace}\"", alert.Str("expr"), StringComparison.Ordinal);
        }
    }
}
