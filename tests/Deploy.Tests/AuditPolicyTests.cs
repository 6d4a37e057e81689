using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// deploy/audit/audit-policy.yaml is a valid audit.k8s.io/v1 Policy and, evaluated with the API
/// server's first-match rule order, logs what the seed guide asks for.
/// </summary>
public sealed class AuditPolicyTests
{
    private static readonly string[] RuleKeys = ["level", "users", "userGroups", "verbs", "resources", "namespaces", "nonResourceURLs", "omitStages", "omitManagedFields"];
    private static readonly string[] Levels = ["None", "Metadata", "Request", "RequestResponse"];
    private static readonly string[] Stages = ["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"];

    private static readonly JsonObject Policy =
        Assert.Single(RenderedChart.Parse(Path.Combine(RepoPaths.Root, "deploy", "audit", "audit-policy.yaml")));

    [Fact]
    public void Is_a_valid_audit_policy_object()
    {
        Assert.Equal("audit.k8s.io/v1", Policy.Str("apiVersion"));
        Assert.Equal("Policy", Policy.Str("kind"));
        Assert.All(Policy.Strings("omitStages"), s => Assert.Contains(s, Stages));
        Assert.Contains("RequestReceived", Policy.Strings("omitStages"));
        var rules = Policy.Items("rules").ToList();
        Assert.True(rules.Count >= 4);
        foreach (var rule in rules)
        {
            Assert.All(rule.AsObject().Select(kv => kv.Key), k => Assert.Contains(k, RuleKeys));
            Assert.Contains(rule.Str("level"), Levels);
            Assert.All(rule.Strings("namespaces"), ns => Assert.DoesNotContain("*", ns, StringComparison.Ordinal));
            foreach (var r in rule.Items("resources"))
            {
                Assert.All(r.AsObject().Select(kv => kv.Key), k => Assert.Contains(k, new[] { "group", "resources", "resourceNames" }));
            }
        }

        // The last rule is the catch-all: a level and nothing else.
        Assert.Equal(["level"], rules[^1].AsObject().Select(kv => kv.Key));
    }

    [Theory]
    [InlineData("create", "resource.k8s.io", "resourceclaims", "tenant-a", "RequestResponse")]
    [InlineData("patch", "resource.k8s.io", "resourceclaims", "team-x", "RequestResponse")]
    [InlineData("update", "resource.k8s.io", "resourceclaims", "tenant-a", "RequestResponse")]
    [InlineData("delete", "resource.k8s.io", "resourceclaimtemplates", "tenant-a", "RequestResponse")]
    [InlineData("update", "resource.k8s.io", "deviceclasses", "", "RequestResponse")]
    [InlineData("delete", "admissionregistration.k8s.io", "validatingadmissionpolicybindings", "", "RequestResponse")]
    [InlineData("get", "resource.k8s.io", "resourceclaims", "tenant-a", "Metadata")]
    [InlineData("update", "resource.k8s.io", "resourceclaims/status", "tenant-a", "Metadata")]
    [InlineData("create", "resource.k8s.io", "resourceslices", "", "Metadata")]
    [InlineData("list", "resource.k8s.io", "deviceclasses", "", "Metadata")]
    [InlineData("get", "", "secrets", "tenant-a", "Metadata")]
    [InlineData("create", "", "secrets", "tenant-a", "Metadata")]
    [InlineData("create", "", "pods", "tenant-a", "Metadata")]
    public void First_matching_rule_gives_the_intended_level(string verb, string group, string resource, string ns, string level)
    {
        var rule = Policy.Items("rules").First(r => Matches(r, verb, group, resource, ns));
        Assert.Equal(level, rule.Str("level"));
    }

    private static bool Matches(JsonNode rule, string verb, string group, string resource, string ns)
    {
        var verbs = rule.Strings("verbs");
        if (verbs.Count > 0 && !verbs.Contains(verb))
        {
            return false;
        }

        var namespaces = rule.Strings("namespaces");
        if (namespaces.Count > 0 && !namespaces.Contains(ns))
        {
            return false;
        }

        var groups = rule.Items("resources").ToList();
        return groups.Count == 0 || groups.Any(g =>
            g.Str("group") == group && (g.Strings("resources") is var rs && (rs.Count == 0 || rs.Contains(resource))));
    }
}
