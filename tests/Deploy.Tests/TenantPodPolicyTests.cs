using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// The tenant pod policy (issue 17, paths around DRA), its CEL evaluated by cel-js with VAP and
/// binding semantics against js/tenant-pods.mjs, and every chart value it reads render-tested.
/// </summary>
[Collection(ChartCollection.Name)]
public sealed class TenantPodPolicyTests(RenderedChart chart)
{
    private static List<string> Wrong(IEnumerable<JsonNode> cases)
    {
        var wrong = new List<string>();
        foreach (var c in cases)
        {
            var allowed = (bool)c.At("allowed")!;
            var expectAllow = c.Str("expected") == "allow";
            var notApplied = c.At("notApplied") is JsonValue v && (bool)v;
            var applied = c.Strings("applied");
            var failed = c.Strings("failed");
            if (allowed != expectAllow)
            {
                wrong.Add($"{c.Str("name")}: expected {c.Str("expected")}, got {(allowed ? "allow" : "deny")} [{string.Join("; ", failed)}]");
            }
            else if (notApplied == applied.Count > 0)
            {
                wrong.Add($"{c.Str("name")}: policies applied [{string.Join(", ", applied)}], expected {(notApplied ? "none" : "the tenant pod policy")}");
            }
            else if (failed.Any(f => f.Contains("evaluation error", StringComparison.Ordinal)))
            {
                // A deny must come from the rule, not from an expression that broke on this shape.
                wrong.Add($"{c.Str("name")}: denied by an evaluation error [{string.Join("; ", failed)}]");
            }
        }

        return wrong;
    }

    private static List<JsonNode> Evaluate(RenderedChart chart, string name, string yaml) =>
        JsonNode.Parse(Tool.Node("eval-policies.mjs", chart.TempFile(name, yaml)))!.AsArray().Select(n => n!).Where(r => r.Str("suite") == "tenant-pods").ToList();

    [Fact]
    public void Each_path_around_dra_is_denied_and_dra_operator_and_driver_pods_are_allowed()
    {
        var cases = chart.PolicyResults.Where(r => r.Str("suite") == "tenant-pods").ToList();
        Assert.True(cases.Count >= 40, $"only {cases.Count} tenant pod cases");
        var wrong = Wrong(cases);
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {cases.Count} cases wrong:\n{string.Join("\n", wrong)}");
    }

    [Fact]
    public void Corpus_covers_every_path_the_issue_names()
    {
        var names = chart.PolicyResults.Where(r => r.Str("suite") == "tenant-pods").Select(r => r.Str("name")).ToList();
        foreach (var needle in new[]
                 {
                     "through a ResourceClaim", "runtimeClassName nvidia", "NVIDIA_VISIBLE_DEVICES=all", "full CDI name", "DOCKER_RESOURCE_",
                     "envFrom prefix NVIDIA_", "envFrom prefix NV ", "cdi.k8s.io/gpu", "nvidia.cdi.k8s.io/pod", "devices.noderesource.dev",
                     "cdi-devices.nri.io", "hostPath", "privileged container", "SYS_ADMIN", "hostPID", "hostIPC", "/var/run/nvidia-container-devices",
                     "nvidia.com/gpu", "init container", "ephemeral container", "GPU Operator device plugin pod", "kubelet plugin pod",
                 })
        {
            Assert.Contains(names, n => n.Contains(needle, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Policy_matches_pods_and_ephemeral_containers_and_binds_labelled_namespaces_without_the_release_and_operator_namespaces()
    {
        var policy = chart.Get("ValidatingAdmissionPolicy", "securedra-tenant-pods");
        Assert.Equal("Fail", policy.Str("spec.failurePolicy"));
        var rule = Assert.Single(policy.Items("spec.matchConstraints.resourceRules"));
        Assert.Equal(["pods", "pods/ephemeralcontainers"], rule.Strings("resources"));
        Assert.Contains(policy.Items("spec.variables"), v => v.Str("name") == "containers" && v.Str("expression").Contains("ephemeralContainers", StringComparison.Ordinal) && v.Str("expression").Contains("initContainers", StringComparison.Ordinal));

        var binding = chart.Get("ValidatingAdmissionPolicyBinding", "securedra-tenant-pods");
        Assert.Equal(["Deny", "Audit"], binding.Strings("spec.validationActions"));
        Assert.Equal("true", (string?)binding.At("spec.matchResources.namespaceSelector.matchLabels")!["securedra.io/gpu-tenant"]);
        var notIn = Assert.Single(binding.Items("spec.matchResources.namespaceSelector.matchExpressions"));
        Assert.Equal("NotIn", notIn.Str("operator"));
        Assert.Equal([RenderedChart.Namespace, "gpu-operator", "kube-system"], notIn.Strings("values"));

        // The chart's tenant namespace carries the label, so the policy applies there out of the box.
        var tenant = chart.OfKind("Namespace").Single(n => n.Str("metadata.name") == "tenant-a");
        Assert.Equal("true", (string?)tenant["metadata"]!["labels"]!["securedra.io/gpu-tenant"]);
    }

    [Fact]
    public void Custom_values_take_effect_in_the_policy_the_binding_and_the_tenant_namespace()
    {
        var yaml = RenderedChart.Render(RenderedChart.Namespace,
            "--set", "policy.tenantPods.namespaceLabel=example.com/tenant",
            "--set", "policy.tenantPods.excludedNamespaces={nvidia-gpu-operator}",
            "--set", "policy.tenantPods.deniedRuntimeClasses={nvidia,acme-gpu}");
        var objects = RenderedChart.Parse(chart.TempFile("tenant-pods-custom.yaml", yaml));
        var binding = objects.Single(o => o.Str("kind") == "ValidatingAdmissionPolicyBinding" && o.Str("metadata.name") == "securedra-tenant-pods");
        Assert.Equal("true", (string?)binding.At("spec.matchResources.namespaceSelector.matchLabels")!["example.com/tenant"]);
        Assert.Equal([RenderedChart.Namespace, "nvidia-gpu-operator"], Assert.Single(binding.Items("spec.matchResources.namespaceSelector.matchExpressions")).Strings("values"));
        var tenant = objects.Single(o => o.Str("kind") == "Namespace" && o.Str("metadata.name") == "tenant-a");
        Assert.Equal("true", (string?)tenant["metadata"]!["labels"]!["example.com/tenant"]);

        // The CEL engine on this render: the corpus still holds (it reads the label and the classes
        // from the rendered objects) except for what these values deliberately change: nvidia-cdi and
        // nvidia-legacy are no longer listed, and gpu-operator and kube-system are no longer excluded.
        var results = Evaluate(chart, "tenant-pods-custom-eval.yaml", yaml);
        Assert.Contains(results, r => r.Str("name") == "RuntimeClass acme-gpu from values.policy.tenantPods.deniedRuntimeClasses" && !(bool)r.At("allowed")!);
        var changed = new[] { "nvidia-cdi", "nvidia-legacy", "in gpu-operator", "kube-system pod" };
        var wrong = Wrong(results.Where(r => !changed.Any(c => r.Str("name").Contains(c, StringComparison.Ordinal))));
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Contains(results, r => r.Str("name").Contains("kube-system pod", StringComparison.Ordinal) && !(bool)r.At("allowed")!);
        var policy = objects.Single(o => o.Str("kind") == "ValidatingAdmissionPolicy" && o.Str("metadata.name") == "securedra-tenant-pods");
        var denied = policy.Items("spec.variables").Single(v => v.Str("name") == "deniedRuntimeClasses").Str("expression");
        Assert.Equal("['nvidia', 'acme-gpu']", denied);
    }

    [Fact]
    public void Disabling_the_policy_removes_it_and_the_tenant_label()
    {
        var yaml = RenderedChart.Render(RenderedChart.Namespace, "--set", "policy.tenantPods.enabled=false");
        var objects = RenderedChart.Parse(chart.TempFile("tenant-pods-off.yaml", yaml));
        Assert.DoesNotContain(objects, o => o.Str("metadata.name") == "securedra-tenant-pods");
        var tenant = objects.Single(o => o.Str("kind") == "Namespace" && o.Str("metadata.name") == "tenant-a");
        Assert.Null(tenant["metadata"]!["labels"]!["securedra.io/gpu-tenant"]);
    }

    [Theory]
    [InlineData("policy.tenantPods.deniedRuntimeClasses={acme-gpu}", "/policy/tenantPods/deniedRuntimeClasses")]
    [InlineData("policy.tenantPods.deniedRuntimeClasses={Nvidia}", "/policy/tenantPods/deniedRuntimeClasses")]
    [InlineData("policy.tenantPods.namespaceLabel=bad label", "/policy/tenantPods/namespaceLabel")]
    [InlineData("policy.tenantPods.excludedNamespaces={Kube_System}", "/policy/tenantPods/excludedNamespaces")]
    [InlineData("policy.tenantPods.allowPrivileged=true", "additional properties")]
    public void Values_schema_rejects_unsafe_tenant_pod_settings(string set, string expectedError)
    {
        var r = Tool.Run(RepoPaths.Helm, ["template", "securedra", RepoPaths.Chart, "--namespace", RenderedChart.Namespace, "--set", set]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(expectedError, r.StdErr, StringComparison.Ordinal);
    }
}
