using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>RBAC from the rendered chart: exactly the intended grants, and none of the dangerous ones.</summary>
[Collection(ChartCollection.Name)]
public sealed class RbacTests(RenderedChart chart)
{
    private const string Plugin = "securedra-kubelet-plugin";
    private const string Controller = "securedra-controller";
    private static readonly string[] Read = ["get", "list", "watch"];
    private static readonly string[] Writes = ["create", "update", "patch", "delete", "deletecollection"];

    /// <summary>(apiGroup, resource, verb, resourceName or "").</summary>
    private static SortedSet<string> Grants(JsonNode role) =>
        new(role.Items("rules").SelectMany(rule =>
            from g in rule.Strings("apiGroups")
            from r in rule.Strings("resources")
            from v in rule.Strings("verbs")
            from n in rule.Strings("resourceNames").DefaultIfEmpty("")
            select $"{g}|{r}|{v}|{n}"), StringComparer.Ordinal);

    private static IEnumerable<string> Expand(string group, string[] resources, string[] verbs, string name = "") =>
        from r in resources from v in verbs select $"{group}|{r}|{v}|{name}";

    private IEnumerable<JsonObject> AllRoles => chart.OfKind("ClusterRole").Concat(chart.OfKind("Role"));

    [Fact]
    public void Kubelet_plugin_cluster_role_grants_exactly_what_the_node_daemon_needs()
    {
        var expected = new SortedSet<string>(
            Expand("resource.k8s.io", ["resourceclaims"], ["get"])
                .Concat(Expand("resource.k8s.io", ["resourceslices"], ["get", "list", "watch", "create", "update", "patch", "delete"]))
                .Concat(Expand("", ["nodes"], ["get"]))
                .Concat(Expand("", ["events"], ["create"])), StringComparer.Ordinal);
        Assert.Equal(expected, Grants(chart.Get("ClusterRole", Plugin)));
    }

    [Fact]
    public void Controller_cluster_role_is_read_only_on_what_it_audits_plus_events()
    {
        var expected = new SortedSet<string>(
            Expand("resource.k8s.io", ["deviceclasses", "resourceclaims", "resourceclaimtemplates"], Read)
                .Concat(Expand("", ["namespaces", "resourcequotas"], Read))
                .Concat(Expand("rbac.authorization.k8s.io", ["clusterroles", "clusterrolebindings", "roles", "rolebindings"], Read))
                .Concat(Expand("apps", ["daemonsets"], Read))
                .Concat(Expand("admissionregistration.k8s.io", ["validatingadmissionpolicies", "validatingadmissionpolicybindings"], Read))
                // Paths around DRA: nvidia RuntimeClasses, the GPU Operator's ClusterPolicy.
                .Concat(Expand("node.k8s.io", ["runtimeclasses"], Read))
                .Concat(Expand("nvidia.com", ["clusterpolicies"], Read))
                .Concat(Expand("", ["events"], ["create"])), StringComparer.Ordinal);
        Assert.Equal(expected, Grants(chart.Get("ClusterRole", Controller)));
    }

    [Fact]
    public void Controller_leader_election_is_a_role_in_its_own_namespace_limited_to_its_lease()
    {
        var role = chart.Get("Role", $"{Controller}-leader-election");
        Assert.Equal(RenderedChart.Namespace, role.Str("metadata.namespace"));
        var expected = new SortedSet<string>(
            Expand("coordination.k8s.io", ["leases"], ["create"])
                .Concat(Expand("coordination.k8s.io", ["leases"], ["get", "update"], Controller)), StringComparer.Ordinal);
        Assert.Equal(expected, Grants(role));
        // The lease name the controller is told to use is the one the Role allows.
        var args = chart.Get("Deployment", "securedra-controller").Items("spec.template.spec.containers").Single().Strings("args");
        Assert.Contains($"--leader-election-id={Controller}", args);
    }

    [Fact]
    public void No_role_uses_wildcards_or_non_resource_urls()
    {
        foreach (var role in AllRoles)
        {
            foreach (var rule in role.Items("rules"))
            {
                var all = rule.Strings("apiGroups").Concat(rule.Strings("resources")).Concat(rule.Strings("verbs"));
                Assert.DoesNotContain(all, x => x.Contains('*', StringComparison.Ordinal));
                Assert.Null(rule.At("nonResourceURLs"));
            }
        }
    }

    [Fact]
    public void No_role_touches_secrets_or_grants_escalation_verbs()
    {
        foreach (var role in AllRoles)
        {
            foreach (var g in Grants(role))
            {
                var parts = g.Split('|');
                Assert.False(parts[1].StartsWith("secrets", StringComparison.Ordinal), $"{role.Str("metadata.name")} grants {g}");
                Assert.DoesNotContain(parts[2], new[] { "escalate", "bind", "impersonate" });
                Assert.False(parts[1].Contains("/exec", StringComparison.Ordinal) || parts[1].Contains("/attach", StringComparison.Ordinal), g);
            }
        }
    }

    [Theory]
    [InlineData(Plugin)]
    [InlineData(Controller)]
    public void Driver_roles_never_write_nodes_or_claims(string name)
    {
        var grants = Grants(chart.Get("ClusterRole", name)).Select(g => g.Split('|')).ToList();
        Assert.DoesNotContain(grants, g => g[1].StartsWith("nodes", StringComparison.Ordinal) && g[2] != "get");
        Assert.DoesNotContain(grants, g => g[1].StartsWith("resourceclaims", StringComparison.Ordinal) && Writes.Contains(g[2]));
        Assert.DoesNotContain(grants, g => g[1] == "deviceclasses" && Writes.Contains(g[2]));
        Assert.DoesNotContain(grants, g => g[0] is "rbac.authorization.k8s.io" or "admissionregistration.k8s.io" && Writes.Contains(g[2]));
    }

    [Fact]
    public void The_controller_cannot_write_resource_slices_and_the_plugin_cannot_read_rbac()
    {
        Assert.DoesNotContain(Grants(chart.Get("ClusterRole", Controller)), g => g.Contains("|resourceslices|", StringComparison.Ordinal));
        Assert.DoesNotContain(Grants(chart.Get("ClusterRole", Plugin)), g => g.StartsWith("rbac", StringComparison.Ordinal));
    }

    [Fact]
    public void Each_service_account_is_bound_to_its_own_roles_only()
    {
        var bindings = chart.OfKind("ClusterRoleBinding").Concat(chart.OfKind("RoleBinding")).ToList();
        foreach (var b in bindings)
        {
            var roleRef = b.Str("roleRef.name");
            Assert.DoesNotContain(roleRef, new[] { "cluster-admin", "admin", "edit" });
            var roleKind = b.Str("roleRef.kind");
            Assert.True(chart.OfKind(roleKind).Any(r => r.Str("metadata.name") == roleRef), $"{b.Str("metadata.name")} refers to missing {roleKind} {roleRef}");
            foreach (var s in b.Items("subjects").Where(s => s.Str("kind") == "ServiceAccount"))
            {
                Assert.Equal(RenderedChart.Namespace, s.Str("namespace"));
                Assert.StartsWith(s.Str("name"), roleRef, StringComparison.Ordinal);
            }
        }

        var saBindings = bindings.SelectMany(b => b.Items("subjects").Where(s => s.Str("kind") == "ServiceAccount").Select(s => (sa: s.Str("name"), role: b.Str("roleRef.name")))).ToList();
        Assert.Equal(new[] { Controller, $"{Controller}-leader-election" }.Order(), saBindings.Where(x => x.sa == Controller).Select(x => x.role).Order());
        Assert.Equal([Plugin], saBindings.Where(x => x.sa == Plugin).Select(x => x.role));
    }

    [Fact]
    public void Plugin_and_controller_use_separate_service_accounts()
    {
        var sas = chart.OfKind("ServiceAccount").Select(s => s.Str("metadata.name")).Order().ToList();
        Assert.Equal([Controller, Plugin], sas);
        Assert.Equal(Plugin, chart.Single("DaemonSet").Str("spec.template.spec.serviceAccountName"));
        Assert.Equal(Controller, chart.Single("Deployment").Str("spec.template.spec.serviceAccountName"));
    }

    [Fact]
    public void Tenants_get_claims_and_templates_read_write_in_their_namespace_and_read_only_device_classes()
    {
        var role = chart.Get("Role", "securedra-dra-tenant");
        Assert.Equal("tenant-a", role.Str("metadata.namespace"));
        // Claims: create and delete, never update/patch (issue 10: enough to strip the delete-protection finalizer).
        Assert.Equal(
            new SortedSet<string>(
                Expand("resource.k8s.io", ["resourceclaims"], ["get", "list", "watch", "create", "delete"])
                    .Concat(Expand("resource.k8s.io", ["resourceclaimtemplates"], ["get", "list", "watch", "create", "update", "patch", "delete"])),
                StringComparer.Ordinal),
            Grants(role));
        Assert.DoesNotContain(AllRoles.Where(r => r.Str("metadata.name").EndsWith("dra-tenant", StringComparison.Ordinal)).SelectMany(r => Grants(r)),
            g => g.StartsWith("resource.k8s.io|resourceclaims|", StringComparison.Ordinal) && (g.Contains("|update|", StringComparison.Ordinal) || g.Contains("|patch|", StringComparison.Ordinal)));
        // DeviceClasses are cluster-scoped: a namespaced Role cannot grant them (the seed's Role tried).
        Assert.Equal(
            new SortedSet<string>(Expand("resource.k8s.io", ["deviceclasses"], Read), StringComparer.Ordinal),
            Grants(chart.Get("ClusterRole", "securedra-deviceclass-reader")));
        var crb = chart.Get("ClusterRoleBinding", "securedra-deviceclass-reader");
        Assert.All(crb.Items("subjects"), s => Assert.Equal("Group", s.Str("kind")));
        Assert.Contains("tenant-a-developers", crb.Items("subjects").Select(s => s.Str("name")));
    }
}
