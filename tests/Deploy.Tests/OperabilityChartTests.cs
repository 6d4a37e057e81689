using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// The chart's operability values (issue 14, item 3): priority class, GPU-node affinity, sub-chart
/// <c>global</c>, controller spread, NOTES.txt, one version number, and the metrics Services and
/// optional ServiceMonitor. Every value is rendered and its effect checked on the object it drives.
/// </summary>
[Collection(ChartCollection.Name)]
public sealed partial class OperabilityChartTests(RenderedChart chart)
{
    private static readonly string[] GpuNodeLabels =
    [
        "nvidia.com/gpu.present",
        "feature.node.kubernetes.io/pci-10de.present",
        "feature.node.kubernetes.io/pci-0302_10de.present",
        "feature.node.kubernetes.io/pci-0300_10de.present",
    ];

    private JsonObject PluginPodSpec => chart.Get("DaemonSet", "securedra-kubelet-plugin").At("spec.template.spec")!.AsObject();

    /// <summary>The chart rendered with <c>--set</c> for each of <paramref name="sets"/>, parsed.</summary>
    private IReadOnlyList<JsonObject> RenderWith(params string[] sets) =>
        RenderedChart.Parse(chart.TempFile($"variant-{Guid.NewGuid():N}.yaml",
            RenderedChart.Render(RenderedChart.Namespace, [.. sets.SelectMany(s => new[] { "--set", s })])));

    private static JsonObject Find(IReadOnlyList<JsonObject> objects, string kind, string name) =>
        objects.SingleOrDefault(o => o.Str("kind") == kind && o.Str("metadata.name") == name)
        ?? throw new Xunit.Sdk.XunitException($"no {kind}/{name} rendered");

    [Fact]
    public void The_plugin_is_system_node_critical_by_default_and_the_value_sets_it()
    {
        Assert.Equal("system-node-critical", PluginPodSpec.Str("priorityClassName"));
        var custom = RenderWith("kubeletPlugin.priorityClassName=gpu-critical");
        Assert.Equal("gpu-critical", Find(custom, "DaemonSet", "securedra-kubelet-plugin").Str("spec.template.spec.priorityClassName"));
    }

    [Fact]
    public void The_plugin_matches_gpu_nodes_by_gfd_or_any_nfd_nvidia_pci_label()
    {
        Assert.Null(PluginPodSpec["nodeSelector"]);
        var terms = PluginPodSpec.Items("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms").ToList();

        // One label per term: terms are ORed by the scheduler, expressions inside a term are ANDed.
        Assert.Equal(GpuNodeLabels.Length, terms.Count);
        for (var i = 0; i < terms.Count; i++)
        {
            var expression = Assert.Single(terms[i].Items("matchExpressions"));
            Assert.Equal(GpuNodeLabels[i], expression.Str("key"));
            Assert.Equal("In", expression.Str("operator"));
            Assert.Equal(["true"], expression.Strings("values"));
        }

        Assert.Null(PluginPodSpec.At("affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution"));
    }

    [Fact]
    public void A_node_selector_value_is_added_on_top_of_the_affinity()
    {
        var spec = Find(RenderWith("kubeletPlugin.nodeSelector.pool=gpu"), "DaemonSet", "securedra-kubelet-plugin").At("spec.template.spec")!;
        Assert.Equal("gpu", spec.Str("nodeSelector.pool"));
        Assert.Equal(GpuNodeLabels.Length, spec.Items("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms").Count());
    }

    [Fact]
    public void Global_values_are_accepted_so_the_chart_can_be_a_sub_chart()
    {
        var r = Tool.Run(RepoPaths.Helm, ["template", "securedra", RepoPaths.Chart, "--namespace", RenderedChart.Namespace, "--set", "global.imageRegistry=example.com", "--set", "global.labels.team=gpu"]);
        Assert.True(r.ExitCode == 0, r.StdErr);

        // Only "global" is new: any other unknown top-level key is still refused.
        var unknown = Tool.Run(RepoPaths.Helm, ["template", "securedra", RepoPaths.Chart, "--namespace", RenderedChart.Namespace, "--set", "globals.x=1"]);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("additional properties", unknown.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Controller_replicas_spread_over_hostnames_and_the_spread_selects_their_own_pods()
    {
        var deployment = chart.Get("Deployment", "securedra-controller");
        var constraint = Assert.Single(deployment.Items("spec.template.spec.topologySpreadConstraints"));
        Assert.Equal("kubernetes.io/hostname", constraint.Str("topologyKey"));
        Assert.Equal(1, (int)constraint.At("maxSkew")!);
        Assert.Equal("ScheduleAnyway", constraint.Str("whenUnsatisfiable"));
        var selector = constraint.At("labelSelector.matchLabels")!.AsObject();
        var podLabels = deployment.At("spec.template.metadata.labels")!.AsObject();
        Assert.All(selector, kv => Assert.Equal((string?)kv.Value, (string?)podLabels[kv.Key]));
        Assert.Equal("controller", (string?)selector["app.kubernetes.io/component"]);

        var hard = Find(RenderWith("controller.topologySpread.whenUnsatisfiable=DoNotSchedule", "controller.topologySpread.maxSkew=2"), "Deployment", "securedra-controller");
        var c = Assert.Single(hard.Items("spec.template.spec.topologySpreadConstraints"));
        Assert.Equal("DoNotSchedule", c.Str("whenUnsatisfiable"));
        Assert.Equal(2, (int)c.At("maxSkew")!);

        var off = Find(RenderWith("controller.topologySpread.enabled=false"), "Deployment", "securedra-controller");
        Assert.Null(off.At("spec.template.spec.topologySpreadConstraints"));
    }

    [Theory]
    [InlineData("controller.topologySpread.whenUnsatisfiable=Maybe", "/controller/topologySpread/whenUnsatisfiable")]
    [InlineData("controller.topologySpread.maxSkew=0", "/controller/topologySpread/maxSkew")]
    [InlineData("kubeletPlugin.affinity=none", "/kubeletPlugin/affinity")]
    [InlineData("metrics.serviceMonitor.interval=often", "/metrics/serviceMonitor/interval")]
    [InlineData("metrics.prometheusRule.scrubDurationSeconds=60", "/metrics/prometheusRule/scrubDurationSeconds")]
    [InlineData("metrics.prometheusRule.webhookErrorRatio=2", "/metrics/prometheusRule/webhookErrorRatio")]
    [InlineData("metrics.prometheusRule.deviceWithdrawnMinutes=0", "/metrics/prometheusRule/deviceWithdrawnMinutes")]
    [InlineData("metrics.unknown=true", "additional properties")]
    [InlineData("canary.timeoutSeconds=5", "/canary/timeoutSeconds")]
    [InlineData("canary.schedule=hourly", "/canary/schedule")]
    [InlineData("canary.maxBytes=lots", "/canary/maxBytes")]
    [InlineData("canary.privileged=true", "additional properties")]
    public void Values_schema_rejects_bad_operability_values(string set, string expectedError)
    {
        var r = Tool.Run(RepoPaths.Helm, ["template", "securedra", RepoPaths.Chart, "--namespace", RenderedChart.Namespace, "--set", set]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(expectedError, r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Notes_tell_the_operator_how_to_verify_the_install()
    {
        var notes = Notes();
        Assert.Contains("rollout status daemonset/securedra-kubelet-plugin", notes, StringComparison.Ordinal);
        Assert.Contains("securedra audit --kubeconfig", notes, StringComparison.Ordinal);
        Assert.Contains("--namespace securedra-system", notes, StringComparison.Ordinal);
        Assert.Contains("securedra canary", notes, StringComparison.Ordinal);
        Assert.Contains("canary.enabled=true", notes, StringComparison.Ordinal);
        Assert.Contains("Service securedra-kubelet-plugin-metrics", notes, StringComparison.Ordinal);

        var withCanary = Notes("--set", "canary.enabled=true", "--set", "fullnameOverride=acme");
        Assert.Contains("create job --from=cronjob/acme-vram-canary", withCanary, StringComparison.Ordinal);
        Assert.Contains("reason=VramCanaryPassed", withCanary, StringComparison.Ordinal);
        Assert.Contains("--*-service-account", withCanary, StringComparison.Ordinal);
    }

    [Fact]
    public void Notes_say_why_a_node_publishes_no_gpu_and_who_may_scrape()
    {
        var notes = Notes();
        Assert.Contains("reason NodeHardeningOpenPath", notes, StringComparison.Ordinal);
        Assert.Contains("admit no scraper until networkPolicy.metricsFrom", notes, StringComparison.Ordinal);

        var relaxed = Notes("--set", "kubeletPlugin.nodeHardening.require=false", "--set", "networkPolicy.metricsFrom[0].podSelector.matchLabels.app=prometheus");
        Assert.DoesNotContain("NodeHardeningOpenPath", relaxed, StringComparison.Ordinal);
        Assert.DoesNotContain("admit no scraper", relaxed, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cli_the_chart_and_the_image_tag_carry_one_version()
    {
        var chartYaml = Assert.Single(RenderedChart.Parse(Path.Combine(RepoPaths.Chart, "Chart.yaml")));
        var values = Assert.Single(RenderedChart.Parse(Path.Combine(RepoPaths.Chart, "values.yaml")));
        var r = SecuredraCli.Run("--version");
        Assert.Equal(0, r.ExitCode);
        var cli = r.StdOut.Trim();
        Assert.Matches(SemVer(), cli);
        Assert.Equal(cli, chartYaml.Str("version"));
        Assert.Equal(cli, chartYaml.Str("appVersion"));
        Assert.Equal(cli, values.Str("image.tag"));
        Assert.Contains($"app.kubernetes.io/version: \"{cli}\"", chart.Yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Metrics_services_are_headless_and_reach_each_components_http_port()
    {
        foreach (var (component, workload) in new[] { ("kubelet-plugin", chart.Get("DaemonSet", "securedra-kubelet-plugin")), ("controller", chart.Get("Deployment", "securedra-controller")) })
        {
            var service = chart.Get("Service", $"securedra-{component}-metrics");
            Assert.Equal("None", service.Str("spec.clusterIP"));
            var podLabels = workload.At("spec.template.metadata.labels")!.AsObject();
            var selector = service.At("spec.selector")!.AsObject();
            Assert.All(selector, kv => Assert.Equal((string?)kv.Value, (string?)podLabels[kv.Key]));
            Assert.Equal(component, (string?)selector["app.kubernetes.io/component"]);
            var port = Assert.Single(service.Items("spec.ports"));
            Assert.Equal("http", port.Str("targetPort"));
            var containerPort = workload.Items("spec.template.spec.containers").SelectMany(c => c.Items("ports")).Single(p => p.Str("name") == "http");
            Assert.Equal((int)containerPort.At("containerPort")!, (int)port.At("port")!);
        }

        var none = RenderWith("metrics.service.enabled=false");
        Assert.DoesNotContain(none, o => o.Str("metadata.name").EndsWith("-metrics", StringComparison.Ordinal));
    }

    [Fact]
    public void The_service_monitor_is_off_by_default_and_when_on_selects_exactly_the_metrics_services()
    {
        Assert.Empty(chart.OfKind("ServiceMonitor"));
        var objects = RenderWith("metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.labels.release=prom", "metrics.serviceMonitor.interval=15s");
        var monitor = Assert.Single(objects, o => o.Str("kind") == "ServiceMonitor");
        Assert.Equal("monitoring.coreos.com/v1", monitor.Str("apiVersion"));
        Assert.Equal("prom", monitor.Str("metadata.labels.release"));
        Assert.Equal([RenderedChart.Namespace], monitor.Strings("spec.namespaceSelector.matchNames"));
        var endpoint = Assert.Single(monitor.Items("spec.endpoints"));
        Assert.Equal("http", endpoint.Str("port"));
        Assert.Equal("/metrics", endpoint.Str("path"));
        Assert.Equal("15s", endpoint.Str("interval"));

        var match = monitor.At("spec.selector.matchLabels")!.AsObject();
        var selected = objects.Where(o => o.Str("kind") == "Service" && match.All(kv => (string?)o.At("metadata.labels")?[kv.Key] == (string?)kv.Value))
            .Select(o => o.Str("metadata.name")).Order(StringComparer.Ordinal);
        Assert.Equal(["securedra-controller-metrics", "securedra-kubelet-plugin-metrics"], selected);
    }

    private static string Notes(params string[] extra)
    {
        var output = Tool.Helm(["install", "securedra", RepoPaths.Chart, "--dry-run=client", "--namespace", RenderedChart.Namespace, .. extra]);
        var at = output.IndexOf("NOTES:", StringComparison.Ordinal);
        Assert.True(at >= 0, "helm install --dry-run printed no NOTES");
        return output[at..];
    }

    [GeneratedRegex(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")]
    private static partial Regex SemVer();
}
