using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// The chart's side of issue 11: ingress NetworkPolicies for the controller and the plugin, per-listener connection
/// bounds and the webhook's client-certificate requirement, as rendered and as the schema accepts them.
/// </summary>
[Collection(ChartCollection.Name)]
public sealed class NetworkSurfaceChartTests(RenderedChart chart)
{
    private static JsonNode Container(JsonObject workload) => Assert.Single(workload.At("spec.template.spec").Items("containers"));

    private static Dictionary<string, string> Args(JsonObject workload) =>
        Container(workload).Strings("args").Skip(1).Select(a => a.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal);

    private IReadOnlyList<JsonObject> RenderWith(string name, params string[] args) =>
        RenderedChart.Parse(chart.TempFile(name, RenderedChart.Render(RenderedChart.Namespace, args)));

    [Fact]
    public void By_default_the_webhook_port_is_open_and_the_metrics_ports_admit_nobody_but_the_node()
    {
        var controller = chart.Get("NetworkPolicy", "securedra-controller");
        Assert.Equal(["Ingress"], controller.Strings("spec.policyTypes"));
        Assert.Equal("controller", (string?)controller.At("spec.podSelector.matchLabels")!["app.kubernetes.io/component"]);
        var rule = Assert.Single(controller.Items("spec.ingress"));
        Assert.Equal(8443, (int)Assert.Single(rule.Items("ports")).At("port")!);
        // No `from`: any source. The API server's addresses are cluster-specific, and with failurePolicy Fail a wrong
        // guess would block every claim carrying this driver's config.
        Assert.Null(rule.At("from"));

        var plugin = chart.Get("NetworkPolicy", "securedra-kubelet-plugin");
        Assert.Equal("kubelet-plugin", (string?)plugin.At("spec.podSelector.matchLabels")!["app.kubernetes.io/component"]);
        Assert.Equal(["Ingress"], plugin.Strings("spec.policyTypes"));
        Assert.Empty(plugin.Items("spec.ingress"));
    }

    [Fact]
    public void The_policies_select_exactly_the_pods_of_the_workloads()
    {
        foreach (var (policy, kind) in new[] { ("securedra-controller", "Deployment"), ("securedra-kubelet-plugin", "DaemonSet") })
        {
            var selector = chart.Get("NetworkPolicy", policy).At("spec.podSelector.matchLabels")!.AsObject();
            var labels = chart.Single(kind).At("spec.template.metadata.labels")!.AsObject();
            Assert.All(selector, pair => Assert.Equal((string?)pair.Value, (string?)labels[pair.Key]));
            // The other workload's pods are not selected.
            var other = chart.Single(kind == "Deployment" ? "DaemonSet" : "Deployment").At("spec.template.metadata.labels")!.AsObject();
            Assert.Contains(selector, pair => (string?)other[pair.Key] != (string?)pair.Value);
        }
    }

    [Fact]
    public void Probes_use_the_http_port_which_the_policies_leave_to_the_node()
    {
        // NetworkPolicy never blocks traffic from a pod's own node, which is where the kubelet's probes come from;
        // the probes must therefore stay on the http port, not need a rule of their own.
        foreach (var kind in new[] { "Deployment", "DaemonSet" })
        {
            var container = Container(chart.Single(kind));
            var httpPort = (int)container.Items("ports").Single(p => p.Str("name") == "http").At("containerPort")!;
            Assert.Equal(8080, httpPort);
            Assert.Equal("http", container.Str("livenessProbe.httpGet.port"));
            Assert.Equal("http", container.Str("readinessProbe.httpGet.port"));
        }
    }

    [Fact]
    public void Metrics_and_webhook_peers_and_changed_ports_are_rendered_into_the_rules()
    {
        var objects = RenderWith("np-peers.yaml",
            "--set", "controller.webhookPort=9443", "--set", "controller.httpPort=9090", "--set", "kubeletPlugin.httpPort=9091",
            "--set", "networkPolicy.webhookFrom[0].ipBlock.cidr=10.0.0.0/28",
            "--set", "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team=monitoring");
        var controller = objects.Single(o => o.Str("kind") == "NetworkPolicy" && o.Str("metadata.name") == "securedra-controller");
        var rules = controller.Items("spec.ingress").ToList();
        Assert.Equal(2, rules.Count);
        Assert.Equal(9443, (int)Assert.Single(rules[0].Items("ports")).At("port")!);
        Assert.Equal("10.0.0.0/28", Assert.Single(rules[0].Items("from")).Str("ipBlock.cidr"));
        Assert.Equal(9090, (int)Assert.Single(rules[1].Items("ports")).At("port")!);
        Assert.Equal("monitoring", Assert.Single(rules[1].Items("from")).Str("namespaceSelector.matchLabels.team"));

        var plugin = objects.Single(o => o.Str("kind") == "NetworkPolicy" && o.Str("metadata.name") == "securedra-kubelet-plugin");
        var pluginRule = Assert.Single(plugin.Items("spec.ingress"));
        Assert.Equal(9091, (int)Assert.Single(pluginRule.Items("ports")).At("port")!);
        Assert.Equal("monitoring", Assert.Single(pluginRule.Items("from")).Str("namespaceSelector.matchLabels.team"));
    }

    [Fact]
    public void The_policies_can_be_turned_off()
    {
        var objects = RenderWith("np-off.yaml", "--set", "networkPolicy.enabled=false");
        Assert.DoesNotContain(objects, o => o.Str("kind") == "NetworkPolicy");
    }

    [Fact]
    public void Connection_bounds_reach_both_workloads_as_flags()
    {
        var controller = Args(chart.Single("Deployment"));
        Assert.Equal("512", controller["--webhook-max-connections"]);
        Assert.Equal("120s", controller["--webhook-idle-timeout"]);
        Assert.Equal("64", controller["--http-max-connections"]);
        Assert.Equal("30s", controller["--http-idle-timeout"]);
        var plugin = Args(chart.Single("DaemonSet"));
        Assert.Equal("64", plugin["--http-max-connections"]);
        Assert.Equal("30s", plugin["--http-idle-timeout"]);

        var changed = RenderWith("np-bounds.yaml", "--set", "controller.webhookMaxConnections=100", "--set", "kubeletPlugin.httpIdleTimeout=10s");
        Assert.Equal("100", Args(changed.Single(o => o.Str("kind") == "Deployment"))["--webhook-max-connections"]);
        Assert.Equal("10s", Args(changed.Single(o => o.Str("kind") == "DaemonSet"))["--http-idle-timeout"]);
    }

    [Fact]
    public void Client_certificates_are_off_by_default_and_a_ca_configmap_turns_them_on()
    {
        Assert.DoesNotContain("--client-ca-file", Args(chart.Single("Deployment")).Keys);

        var objects = RenderWith("client-ca.yaml", "--set", "controller.clientCA.configMapName=apiserver-webhook-client-ca", "--set", "controller.clientCA.key=bundle.pem");
        var deployment = objects.Single(o => o.Str("kind") == "Deployment");
        Assert.Equal("/etc/securedra/client-ca/bundle.pem", Args(deployment)["--client-ca-file"]);
        var mount = Container(deployment).Items("volumeMounts").Single(m => m.Str("name") == "client-ca");
        Assert.Equal("/etc/securedra/client-ca", mount.Str("mountPath"));
        Assert.True((bool)mount.At("readOnly")!);
        var volume = deployment.At("spec.template.spec").Items("volumes").Single(v => v.Str("name") == "client-ca");
        Assert.Equal("apiserver-webhook-client-ca", volume.Str("configMap.name"));
        Assert.Equal("bundle.pem", Assert.Single(volume.Items("configMap.items")).Str("path"));
    }

    [Theory]
    [InlineData("controller.webhookMaxConnections=0", "/controller/webhookMaxConnections")]
    [InlineData("kubeletPlugin.httpMaxConnections=1000000", "/kubeletPlugin/httpMaxConnections")]
    [InlineData("controller.webhookIdleTimeout=forever", "/controller/webhookIdleTimeout")]
    [InlineData("controller.clientCA.key=../../etc/passwd", "/controller/clientCA/key")]
    [InlineData("controller.clientCA.configMapName=Bad_Name", "/controller/clientCA/configMapName")]
    [InlineData("networkPolicy.metricsFrom[0].anything=x", "/networkPolicy/metricsFrom/0")]
    [InlineData("networkPolicy.allowAll=true", "additional properties")]
    public void The_schema_rejects_nonsense_network_values(string set, string expectedError)
    {
        var r = Tool.Run(RepoPaths.Helm, ["template", "securedra", RepoPaths.Chart, "--namespace", RenderedChart.Namespace, "--set", set]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(expectedError, r.StdErr, StringComparison.Ordinal);
    }
}
