using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>The chart lints, renders, and the committed manifests are exactly what it renders.</summary>
[Collection(ChartCollection.Name)]
public sealed class HelmRenderTests(RenderedChart chart)
{
    [Fact]
    public void Helm_lint_passes_strict()
    {
        var output = Tool.Helm("lint", "--strict", RepoPaths.Chart);
        Assert.Contains("0 chart(s) failed", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Committed_manifests_equal_a_fresh_render()
    {
        var committed = File.ReadAllText(Path.Combine(RepoPaths.Manifests, "securedra.yaml"));
        var header = "# Rendered by deploy/render.sh from deploy/helm/securedra (default values). Do not edit.\n";
        Assert.True(committed == header + chart.Yaml,
            "deploy/manifests/securedra.yaml is stale: run deploy/render.sh and commit the result");
    }

    [Fact]
    public void Kustomization_lists_the_rendered_manifest()
    {
        var objects = RenderedChart.Parse(Path.Combine(RepoPaths.Manifests, "kustomization.yaml"));
        var k = Assert.Single(objects);
        Assert.Equal("kustomize.config.k8s.io/v1beta1", k.Str("apiVersion"));
        Assert.Equal("Kustomization", k.Str("kind"));
        Assert.Equal(["securedra.yaml"], k.Strings("resources"));
    }

    [Fact]
    public void Kustomize_builds_exactly_the_rendered_objects()
    {
        // kubectl's built-in kustomize (kubectl apply -k runs the same build), no cluster needed.
        var built = Tool.RunOk(RepoPaths.Kubectl, "kustomize", RepoPaths.Manifests);
        var objects = RenderedChart.Parse(chart.TempFile("kustomized.yaml", built));
        static string Key(System.Text.Json.Nodes.JsonObject o) => $"{o.Str("apiVersion")}/{o.Str("kind")}/{o.Str("metadata.namespace")}/{o.Str("metadata.name")}";
        Assert.Equal(chart.Objects.Select(Key).Order(StringComparer.Ordinal), objects.Select(Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_object_is_labelled_and_namespaced_objects_live_in_the_release_or_tenant_namespaces()
    {
        var tenantNamespaces = chart.OfKind("ResourceQuota").Select(q => q.Str("metadata.namespace")).ToHashSet();
        Assert.NotEmpty(tenantNamespaces);
        foreach (var o in chart.Objects)
        {
            var id = $"{o.Str("kind")}/{o.Str("metadata.name")}";
            Assert.True((string?)o.At("metadata.labels")?["app.kubernetes.io/name"] == "securedra", $"{id} lacks app.kubernetes.io/name");
            var ns = o.Str("metadata.namespace");
            Assert.True(ns == "" || ns == RenderedChart.Namespace || tenantNamespaces.Contains(ns), $"{id} is in unexpected namespace {ns}");
        }
    }

    [Theory]
    [InlineData("kubeletPlugin.privileged=true", "additional properties")]
    [InlineData("policy.validationActions={Audit}", "/policy/validationActions")]
    [InlineData("webhook.excludedNamespaces={default}", "/webhook/excludedNamespaces")]
    [InlineData("webhook.timeoutSeconds=30", "/webhook/timeoutSeconds")]
    [InlineData("image.digest=latest", "/image/digest")]
    [InlineData("namespace.podSecurity.warn=none", "/namespace/podSecurity/warn")]
    [InlineData("kubeletPlugin.migMode=on", "/kubeletPlugin/migMode")]
    [InlineData("kubeletPlugin.migMode=false", "/kubeletPlugin/migMode")]
    public void Values_schema_rejects_unsafe_or_unknown_values(string set, string expectedError)
    {
        var r = Tool.Run(RepoPaths.Helm, ["template", "securedra", RepoPaths.Chart, "--namespace", RenderedChart.Namespace, "--set", set]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(expectedError, r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Mig_mode_value_reaches_the_kubelet_plugin_flag_and_defaults_to_off()
    {
        Assert.Contains("- --mig-mode=off\n", RenderedChart.Render(RenderedChart.Namespace), StringComparison.Ordinal);
        var rendered = RenderedChart.Render(RenderedChart.Namespace, "--set", "kubeletPlugin.migMode=static");
        Assert.Contains("- --mig-mode=static\n", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("--mig-mode=off", rendered, StringComparison.Ordinal);
    }

    [Fact]
    public void Rendering_twice_is_deterministic()
    {
        Assert.Equal(chart.Yaml, RenderedChart.Render(RenderedChart.Namespace));
    }

    [Fact]
    public void Chart_driver_name_and_config_api_match_the_code()
    {
        var values = RenderedChart.Parse(Path.Combine(RepoPaths.Chart, "values.yaml"));
        Assert.Equal(SecureDra.Api.DriverConstants.DefaultDriverName, Assert.Single(values).Str("driverName"));
    }
}
