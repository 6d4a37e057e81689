using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>Shape of the admission objects: bound, fail-closed, per-version coverage, standard CEL only.</summary>
[Collection(ChartCollection.Name)]
public sealed partial class PolicyStructureTests(RenderedChart chart)
{
    private static readonly Dictionary<string, string[]> Served = new()
    {
        ["1.32"] = ["v1beta1"],
        ["1.33"] = ["v1beta1", "v1beta2"],
        ["1.34"] = ["v1", "v1beta2", "v1beta1"],
    };

    /// <summary>The claim-spec policies (claims and templates); the delete-protection policy only sees claim metadata.</summary>
    private IEnumerable<JsonObject> ClaimPolicies => chart.OfKind("ValidatingAdmissionPolicy")
        .Where(p => p.Items("spec.matchConstraints.resourceRules").Any(r => r.Strings("resources").Contains("resourceclaimtemplates")));

    [Fact]
    public void Every_policy_fails_closed_and_is_bound_with_deny()
    {
        var policies = chart.OfKind("ValidatingAdmissionPolicy");
        Assert.Equal(7, policies.Count); // slices, claims x3, pod hardening, claim delete protection, tenant pods
        foreach (var p in policies)
        {
            Assert.Equal("Fail", p.Str("spec.failurePolicy"));
            var binding = chart.OfKind("ValidatingAdmissionPolicyBinding").Single(b => b.Str("spec.policyName") == p.Str("metadata.name"));
            Assert.Contains("Deny", binding.Strings("spec.validationActions"));
            Assert.DoesNotContain("Warn", binding.Strings("spec.validationActions"));
            Assert.Null(binding.At("spec.paramRef"));
        }
    }

    [Fact]
    public void Claim_policies_are_one_per_version_with_the_match_policy_each_needs()
    {
        var byVersion = ClaimPolicies.ToDictionary(
            p => Assert.Single(Assert.Single(p.Items("spec.matchConstraints.resourceRules")).Strings("apiVersions")),
            p => p.Str("spec.matchConstraints.matchPolicy"));
        Assert.Equal(new Dictionary<string, string> { ["v1"] = "Equivalent", ["v1beta2"] = "Exact", ["v1beta1"] = "Exact" }, byVersion);
        foreach (var p in ClaimPolicies)
        {
            var rule = Assert.Single(p.Items("spec.matchConstraints.resourceRules"));
            Assert.Equal(["resource.k8s.io"], rule.Strings("apiGroups"));
            Assert.Equal(["CREATE", "UPDATE"], rule.Strings("operations"));
            Assert.Equal(["resourceclaims", "resourceclaimtemplates"], rule.Strings("resources"));
        }
    }

    [Theory]
    [InlineData("1.32")]
    [InlineData("1.33")]
    [InlineData("1.34")]
    public void Every_served_request_version_is_judged_in_its_own_shape_by_some_policy(string kubernetes)
    {
        foreach (var version in Served[kubernetes])
        {
            // A policy judges a request in its own shape when it names that version; Equivalent
            // policies naming a served version also see it converted (a second opinion).
            var exactReaders = ClaimPolicies.Where(p => p.Items("spec.matchConstraints.resourceRules").Single().Strings("apiVersions").Contains(version)).ToList();
            Assert.True(exactReaders.Count == 1, $"{kubernetes}: {exactReaders.Count} policies read {version} in its own shape");
        }
    }

    [Fact]
    public void Claim_delete_protection_policy_sees_every_claim_update_in_every_version_and_namespace()
    {
        var p = chart.Get("ValidatingAdmissionPolicy", "securedra-claim-delete-protection");
        Assert.Equal("Equivalent", p.Str("spec.matchConstraints.matchPolicy"));
        var rule = Assert.Single(p.Items("spec.matchConstraints.resourceRules"));
        Assert.Equal(["UPDATE"], rule.Strings("operations"));
        Assert.Equal(new[] { "v1", "v1beta1", "v1beta2" }, rule.Strings("apiVersions").Order());
        Assert.Equal(["resourceclaims"], rule.Strings("resources"));
        var validation = Assert.Single(p.Items("spec.validations"));
        Assert.Equal(
            "request.userInfo.username in ['system:serviceaccount:kube-system:resource-claim-controller', 'system:kube-controller-manager', 'system:kube-scheduler']",
            validation.Str("expression"));
        // No namespace is exempt: kube-system claims hold GPUs too.
        Assert.Null(chart.Get("ValidatingAdmissionPolicyBinding", "securedra-claim-delete-protection").At("spec.matchResources"));
    }

    [Fact]
    public void Slice_policy_covers_create_update_delete_in_every_version()
    {
        var p = chart.Get("ValidatingAdmissionPolicy", "securedra-resourceslices-node-scoped");
        var rule = Assert.Single(p.Items("spec.matchConstraints.resourceRules"));
        Assert.Equal(["CREATE", "UPDATE", "DELETE"], rule.Strings("operations"));
        Assert.Equal(new[] { "v1", "v1beta1", "v1beta2" }, rule.Strings("apiVersions").Order());
        Assert.Equal(["resourceslices"], rule.Strings("resources"));
        var binding = chart.Get("ValidatingAdmissionPolicyBinding", "securedra-resourceslices-node-scoped");
        Assert.Null(binding.At("spec.matchResources"));
    }

    [Fact]
    public void Expressions_use_standard_cel_only()
    {
        var expressions = chart.OfKind("ValidatingAdmissionPolicy").SelectMany(p =>
                p.Items("spec.matchConditions").Concat(p.Items("spec.variables")).Concat(p.Items("spec.validations"))
                    .SelectMany(x => new[] { x.Str("expression"), x.Str("messageExpression") }))
            .Concat(chart.Single("ValidatingWebhookConfiguration").Items("webhooks").SelectMany(w => w.Items("matchConditions")).Select(m => m.Str("expression")))
            .Where(e => e.Length > 0)
            .ToList();
        Assert.True(expressions.Count > 20);
        foreach (var e in expressions)
        {
            Assert.False(KubernetesOnlyFunctions().IsMatch(e), $"Kubernetes-only CEL library in: {e}");
        }
    }

    [GeneratedRegex(@"\b(quantity|isQuantity|semver|isSemver|ip|isIP|cidr|isCIDR|url|isURL|authorizer|format|sum|isSorted|indexOf|lastIndexOf|join|split|lowerAscii|upperAscii|replace|trim|find|findAll|base64)\s*\(|\.(find|findAll|join|split|sum|min|max)\(")]
    private static partial Regex KubernetesOnlyFunctions();

    [Fact]
    public void Webhook_is_scoped_fail_closed_quick_and_side_effect_free()
    {
        var config = chart.Single("ValidatingWebhookConfiguration");
        var w = Assert.Single(config.Items("webhooks"));
        Assert.Equal("None", w.Str("sideEffects"));
        Assert.Equal("Fail", w.Str("failurePolicy"));
        Assert.InRange((int)w.At("timeoutSeconds")!, 1, 10);
        Assert.Equal(["v1"], w.Strings("admissionReviewVersions"));
        var rule = Assert.Single(w.Items("rules"));
        Assert.Equal(new[] { "v1", "v1beta1", "v1beta2" }, rule.Strings("apiVersions").Order());
        Assert.Equal(["CREATE", "UPDATE"], rule.Strings("operations"));
        Assert.Equal(["resourceclaims", "resourceclaimtemplates"], rule.Strings("resources"));
        Assert.Equal("Namespaced", rule.Str("scope"));
        var selector = Assert.Single(w.Items("namespaceSelector.matchExpressions"));
        Assert.Equal("NotIn", selector.Str("operator"));
        Assert.Contains("kube-system", selector.Strings("values"));
        Assert.Equal(3, w.Str("name").Split('.').Length);
    }

    [Fact]
    public void Pod_hardening_applies_to_every_pod_write_in_the_release_namespace_only()
    {
        var p = chart.Get("ValidatingAdmissionPolicy", "securedra-pod-hardening");
        var rule = Assert.Single(p.Items("spec.matchConstraints.resourceRules"));
        Assert.Equal(["pods", "pods/ephemeralcontainers"], rule.Strings("resources"));
        Assert.Equal(["CREATE", "UPDATE"], rule.Strings("operations"));
        Assert.Null(p.At("spec.matchConditions"));
        var b = chart.Get("ValidatingAdmissionPolicyBinding", "securedra-pod-hardening");
        Assert.Equal(RenderedChart.Namespace, (string?)b.At("spec.matchResources.namespaceSelector.matchLabels")!["kubernetes.io/metadata.name"]);
    }

    [Fact]
    public void Claim_policy_bindings_exclude_kube_system_like_the_webhook()
    {
        foreach (var p in ClaimPolicies)
        {
            var b = chart.OfKind("ValidatingAdmissionPolicyBinding").Single(b => b.Str("spec.policyName") == p.Str("metadata.name"));
            var e = Assert.Single(b.Items("spec.matchResources.namespaceSelector.matchExpressions"));
            Assert.Equal("kubernetes.io/metadata.name", e.Str("key"));
            Assert.Equal("NotIn", e.Str("operator"));
            Assert.Equal(["kube-system"], e.Strings("values"));
        }
    }
}
