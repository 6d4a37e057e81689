using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>Every rendered object against the Kubernetes 1.36 schemas of kubernetes-models@5.1.0.</summary>
[Collection(ChartCollection.Name)]
public sealed class SchemaValidationTests(RenderedChart chart)
{
    [Fact]
    public void Every_rendered_object_is_valid_against_the_1_36_schemas()
    {
        var results = Validate(chart.File);
        Assert.Equal(chart.Objects.Count, results.Count);
        var problems = results
            .Where(r => r.Str("status") != "valid")
            .Select(r => $"{r.Str("kind")}/{r.Str("name")} ({r.Str("apiVersion")}): {r.Str("status")} {string.Join("; ", r.Strings("errors"))}")
            .ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Rendered_objects_with_non_default_values_are_valid_too()
    {
        var yaml = RenderedChart.Render("gpu-system",
            "--set", "fullnameOverride=acme-dra", "--set", "deviceClasses.exclusive.name=acme-gpu",
            "--set", "webhook.caBundle=Zm9v", "--set", "tenants[0].namespace=team-x", "--set", "tenants[0].createNamespace=false",
            "--set", "tenants[0].groups[0]=team-x", "--set", "tenants[0].quota.resourceclaims=3", "--set", "tenants[0].quota.resourceclaimtemplates=1");
        var results = Validate(chart.TempFile("variant.yaml", yaml));
        Assert.All(results, r => Assert.True(r.Str("status") == "valid", $"{r.Str("kind")}/{r.Str("name")}: {string.Join("; ", r.Strings("errors"))}"));
    }

    [Fact]
    public void Render_without_tenants_or_webhook_is_valid_and_keeps_every_guard()
    {
        var yaml = RenderedChart.Render(RenderedChart.Namespace, "--set-json", "tenants=[]", "--set", "webhook.enabled=false");
        var file = chart.TempFile("minimal.yaml", yaml);
        Assert.All(Validate(file), r => Assert.True(r.Str("status") == "valid", $"{r.Str("kind")}/{r.Str("name")}: {string.Join("; ", r.Strings("errors"))}"));
        var kinds = RenderedChart.Parse(file).Select(o => o.Str("kind")).ToList();
        Assert.DoesNotContain("ResourceQuota", kinds);
        Assert.DoesNotContain("ValidatingWebhookConfiguration", kinds);
        Assert.Equal(7, kinds.Count(k => k == "ValidatingAdmissionPolicy")); // slices, claims x3, pod hardening, claim delete protection, tenant pods
        Assert.Equal(1, kinds.Count(k => k == "DeviceClass"));
    }

    [Fact]
    public void The_validator_is_not_vacuous_it_rejects_broken_objects_and_misspelt_fields()
    {
        var broken = """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: broken}
            spec:
              selector: {matchLabels: {a: b}}
              template:
                metadata: {labels: {a: b}}
                spec:
                  containers: [{name: c, securityContext: {capabilities: {drop: ALL}}}]
            ---
            apiVersion: resource.k8s.io/v1
            kind: DeviceClass
            metadata: {name: broken}
            spec: {selectors: [{cel: {}}]}
            ---
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: typos, labelz: {a: b}}
            spec:
              selector: {matchLabels: {a: b}}
              template:
                metadata: {labels: {a: b}}
                spec:
                  hostpid: true
                  containers: [{name: c, image: x, securityContext: {readOnlyRootFileSystem: true}}]
                  volumes: [{name: v, hostpath: {path: /}}]
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: typos}
            spec:
              matchConstraints: {resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods], matchPolicy: Exact}]}
              validations: [{expression: "true", messageExpresion: "'x'"}]
            """;
        var results = Validate(chart.TempFile("broken.yaml", broken));
        Assert.All(results, r => Assert.Equal("invalid", r.Str("status")));
        var errors = results.SelectMany(r => r.Strings("errors")).ToList();
        foreach (var path in new[]
                 {
                     ".metadata.labelz", ".spec.template.spec.hostpid", ".spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem",
                     ".spec.template.spec.volumes[0].hostpath", ".spec.matchConstraints.resourceRules[0].matchPolicy", ".spec.validations[0].messageExpresion",
                 })
        {
            Assert.Contains(errors, e => e.StartsWith(path + ": unknown field", StringComparison.Ordinal));
        }
    }

    private static List<JsonNode> Validate(string file) =>
        JsonNode.Parse(Tool.Node("validate-schemas.mjs", file))!.AsArray().Select(n => n!).ToList();
}
