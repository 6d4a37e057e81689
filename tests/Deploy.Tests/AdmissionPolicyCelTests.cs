using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// The CEL of the RENDERED policies, evaluated by @marcbachmann/cel-js 8.0.0 with VAP semantics
/// (js/vap.mjs) against the corpus in js/corpus.mjs. Suites are per Kubernetes version and
/// request version, so the choice of policies per version is tested, not only their CEL.
/// </summary>
[Collection(ChartCollection.Name)]
public sealed class AdmissionPolicyCelTests(RenderedChart chart)
{
    private List<JsonNode> Suite(string suite)
    {
        var cases = chart.PolicyResults.Where(r => r.Str("suite") == suite).ToList();
        Assert.True(cases.Count > 0, $"no cases in suite {suite}");
        return cases;
    }

    private static void AssertVerdicts(List<JsonNode> cases, bool requireApplied)
    {
        var wrong = new List<string>();
        foreach (var c in cases)
        {
            var allowed = (bool)c.At("allowed")!;
            var expectAllow = c.Str("expected") == "allow";
            var notApplied = c.At("notApplied") is JsonValue v && (bool)v;
            var applied = c.Strings("applied");
            if (allowed != expectAllow)
            {
                wrong.Add($"{c.Str("suite")} | {c.Str("name")}: expected {c.Str("expected")}, got {(allowed ? "allow" : "deny")} [{string.Join("; ", c.Strings("failed"))}]");
            }
            else if (requireApplied && notApplied == applied.Count > 0)
            {
                wrong.Add($"{c.Str("suite")} | {c.Str("name")}: policies applied [{string.Join(", ", applied)}], expected {(notApplied ? "none" : "at least one")}");
            }
        }

        Assert.True(wrong.Count == 0, $"{wrong.Count} of {cases.Count} cases wrong:\n{string.Join("\n", wrong)}");
    }

    [Theory]
    [InlineData("1.32", "v1beta1")]
    [InlineData("1.33", "v1beta1")]
    [InlineData("1.33", "v1beta2")]
    [InlineData("1.36", "v1")]
    [InlineData("1.36", "v1beta2")]
    [InlineData("1.36", "v1beta1")]
    public void Claims_and_templates_get_the_right_verdict_from_the_policies_the_api_server_would_apply(string kubernetes, string version) =>
        AssertVerdicts(Suite($"claims/{kubernetes}/{version}"), requireApplied: true);

    [Theory]
    [InlineData("securedra-claims-v1")]
    [InlineData("securedra-claims-v1beta2")]
    [InlineData("securedra-claims-v1beta1")]
    public void Each_claim_policy_alone_is_right_for_the_shape_of_its_version(string policy) =>
        AssertVerdicts(Suite($"policy/{policy}"), requireApplied: true);

    [Theory]
    [InlineData("1.32", "v1beta1")]
    [InlineData("1.33", "v1beta1")]
    [InlineData("1.33", "v1beta2")]
    [InlineData("1.36", "v1")]
    [InlineData("1.36", "v1beta2")]
    [InlineData("1.36", "v1beta1")]
    public void Resource_slice_writes_are_scoped_to_the_plugins_own_node(string kubernetes, string version) =>
        AssertVerdicts(Suite($"slices/{kubernetes}/{version}"), requireApplied: true);

    [Fact]
    public void Corpus_covers_the_required_scenarios()
    {
        var names = Suite("claims/1.36/v1").Select(c => c.Str("name")).ToList();
        foreach (var needle in new[]
                 {
                     "firstAvailable", "adminAccess true in a later request", "9 requests", "unapproved class",
                     "resetPolicy None", "another driver's config is ignored", "admin-access=true", "template: ",
                     "metadata-only update", "1.33 key",
                 })
        {
            Assert.Contains(names, n => n.Contains(needle, StringComparison.Ordinal));
        }

        Assert.Contains(names, n => n.StartsWith("template: tenant config with resetPolicy None", StringComparison.Ordinal));
        foreach (var needle in new[] { "finalizer: tenant removes delete-protection", "finalizer: a cluster admin", "finalizer: the resource-claim controller removes it", "finalizer: the scheduler" })
        {
            Assert.Contains(names, n => n.StartsWith(needle, StringComparison.Ordinal));
        }

        var slices = Suite("slices/1.36/v1").Select(c => c.Str("name")).ToList();
        foreach (var needle in new[] { "creates its own", "creates another", "moves another node's slice to itself", "deletes another", "deletes its own", "cluster admin" })
        {
            Assert.Contains(slices, n => n.Contains(needle, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("claims/1.32/v1beta1")]
    [InlineData("claims/1.33/v1beta2")]
    [InlineData("claims/1.36/v1")]
    [InlineData("claims/1.36/v1beta1")]
    public void Only_the_control_plane_may_remove_a_claims_delete_protection_finalizer(string suite)
    {
        // Issue 10: a tenant who strips resource.kubernetes.io/delete-protection can delete a claim whose GPU a
        // running container still holds. Denied for tenants, admins and look-alikes, by the delete-protection
        // policy (not by accident of another one); allowed for the resource-claim controller and the scheduler.
        var cases = Suite(suite).Where(c => c.Str("name").StartsWith("finalizer: ", StringComparison.Ordinal)).ToList();
        Assert.True(cases.Count >= 10, $"{cases.Count} finalizer cases in {suite}");
        AssertVerdicts(cases, requireApplied: true);
        foreach (var denied in cases.Where(c => c.Str("expected") == "deny"))
        {
            Assert.Contains(denied.Strings("failed"), f => f.StartsWith("securedra-claim-delete-protection: only the Kubernetes control plane", StringComparison.Ordinal));
            Assert.Contains(denied.Strings("applied"), a => a.StartsWith("securedra-claim-delete-protection@", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Release_namespace_pods_pass_only_in_their_hardened_form() =>
        // The chart's own pods pass; privilege, SYS_ADMIN, host namespaces, broad hostPath, mount
        // propagation, privileged init or debug containers are each denied.
        AssertVerdicts(Suite("pod-hardening"), requireApplied: true);

    [Fact]
    public void Webhook_match_conditions_skip_metadata_only_updates() =>
        AssertVerdicts(Suite("webhook-matchConditions"), requireApplied: false);

    [Fact]
    public void Device_class_selectors_select_this_driver_only() =>
        AssertVerdicts(Suite("deviceclass-selectors"), requireApplied: false);

    [Fact]
    public void The_seed_guides_policy_is_wrong_for_v1_as_the_issue_says() =>
        // expected = what the seed policy does: it denies valid v1 claims and every template,
        // and lets adminAccess through in a second request.
        AssertVerdicts(Suite("seed-policy"), requireApplied: false);

    [Fact]
    public void Node_scoping_policy_matches_the_service_account_the_daemonset_really_uses_under_other_names()
    {
        // NVIDIA #1317: the policy named a service account the plugin did not run as. Render with a
        // different prefix and namespace and check the three places agree.
        var yaml = RenderedChart.Render("gpu-operators", "--set", "fullnameOverride=acme");
        var objects = RenderedChart.Parse(chart.TempFile("renamed.yaml", yaml));
        var ds = objects.Single(o => o.Str("kind") == "DaemonSet");
        var user = $"system:serviceaccount:{ds.Str("metadata.namespace")}:{ds.Str("spec.template.spec.serviceAccountName")}";
        Assert.Equal("system:serviceaccount:gpu-operators:acme-kubelet-plugin", user);

        var policy = objects.Single(o => o.Str("kind") == "ValidatingAdmissionPolicy" && o.Str("metadata.name").EndsWith("resourceslices-node-scoped", StringComparison.Ordinal));
        var condition = Assert.Single(policy.Items("spec.matchConditions")).Str("expression");
        Assert.Equal($"request.userInfo.username == '{user}'", condition);

        var binding = objects.Single(o => o.Str("kind") == "ClusterRoleBinding" && o.Str("roleRef.name") == "acme-kubelet-plugin");
        var subject = Assert.Single(binding.Items("subjects"));
        Assert.Equal(user, $"system:serviceaccount:{subject.Str("namespace")}:{subject.Str("name")}");

        // And the CEL engine agrees, on this render, for a write by that identity to another node.
        var results = JsonNode.Parse(Tool.Node("eval-policies.mjs", chart.TempFile("renamed-eval.yaml", yaml)))!.AsArray().Select(n => n!).ToList();
        AssertVerdicts(results.Where(r => r.Str("suite") == "slices/1.36/v1").ToList(), requireApplied: true);
    }
}
