using System.Text.Json.Nodes;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Tests.Support;

namespace SecureDra.Controller.Tests.Audit;

public sealed class HardeningAuditorTests
{
    private readonly HardeningAuditor _auditor = new(new HardeningAuditOptions());

    [Fact]
    public void Compliant_install_has_no_findings()
    {
        var findings = _auditor.Audit(HardenedCluster.Snapshot());
        Assert.True(findings.Count == 0, AuditReportWriter.Table(findings));
    }

    // ---- DeviceClasses ----

    [Fact]
    public void DeviceClass_with_reset_policy_None_is_critical()
    {
        var finding = Single(AuditChecks.DeviceClassResetPolicy, o =>
            HardenedCluster.Find(o, "DeviceClass", "securedra-gpu-shared")["spec"]!["config"]![0]!["opaque"]!["parameters"]!["resetPolicy"] = "None");
        Assert.Equal(AuditSeverity.Critical, finding.Severity);
        Assert.Equal("securedra-gpu-shared", finding.Object.Name);
        Assert.Contains("spec.config[0].opaque.parameters.resetPolicy is 'None'", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeviceClass_selecting_the_driver_without_any_config_is_high()
    {
        var finding = Single(AuditChecks.DeviceClassResetPolicy, o =>
            HardenedCluster.Find(o, "DeviceClass", "securedra-gpu-exclusive")["spec"]!.AsObject().Remove("config"));
        Assert.Equal(AuditSeverity.High, finding.Severity);
        Assert.Contains("pins no resetPolicy", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeviceClass_config_for_the_driver_without_reset_policy_is_high()
    {
        var finding = Single(AuditChecks.DeviceClassResetPolicy, o =>
            HardenedCluster.Find(o, "DeviceClass", "securedra-gpu-exclusive")["spec"]!["config"]![0]!["opaque"]!["parameters"]!.AsObject().Remove("resetPolicy"));
        Assert.Equal(AuditSeverity.High, finding.Severity);
    }

    [Fact]
    public void DeviceClass_of_another_driver_is_not_audited()
    {
        var findings = _auditor.Audit(HardenedCluster.Snapshot(o =>
            HardenedCluster.Find(o, "DeviceClass", "fpga")["spec"]!["config"] = JsonNode.Parse("""[{"opaque":{"driver":"fpga.example.com","parameters":{"resetPolicy":"None"}}}]""")));
        Assert.Empty(findings);
    }

    [Fact]
    public void Driver_name_option_is_honoured()
    {
        var auditor = new HardeningAuditor(new HardeningAuditOptions { DriverName = "fpga.example.com", AllowedHostPaths = ["/var/lib/kubelet/plugins_registry", "/var/lib/kubelet/plugins/gpu.nvidia.com", "/var/run/cdi"] });
        var findings = auditor.Audit(HardenedCluster.Snapshot());
        var finding = Assert.Single(findings);
        Assert.Equal("fpga", finding.Object.Name);
    }

    // ---- Admission policies ----

    [Fact]
    public void Missing_policy_is_critical()
    {
        var findings = Findings(AuditChecks.AdmissionPolicy, o => o.Remove(HardenedCluster.Find(o, "ValidatingAdmissionPolicy", "securedra-resourceslices-node-scoped")));
        var finding = Assert.Single(findings);
        Assert.Equal(AuditSeverity.Critical, finding.Severity);
        Assert.Contains("securedra-resourceslices-node-scoped is missing", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_binding_is_critical()
    {
        var finding = Single(AuditChecks.AdmissionPolicy, o => o.Remove(HardenedCluster.Find(o, "ValidatingAdmissionPolicyBinding", "securedra-claims-v1")));
        Assert.Equal(AuditSeverity.Critical, finding.Severity);
        Assert.Contains("enforces nothing", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Binding_without_Deny_is_critical()
    {
        var finding = Single(AuditChecks.AdmissionPolicy, o =>
            HardenedCluster.Find(o, "ValidatingAdmissionPolicyBinding", "securedra-claims-v1")["spec"]!["validationActions"] = new JsonArray("Warn", "Audit"));
        Assert.Equal(AuditSeverity.Critical, finding.Severity);
        Assert.Contains("must include Deny", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Binding_pointing_at_another_policy_does_not_count()
    {
        var finding = Single(AuditChecks.AdmissionPolicy, o =>
            HardenedCluster.Find(o, "ValidatingAdmissionPolicyBinding", "securedra-resourceslices-node-scoped")["spec"]!["policyName"] = "something-else");
        Assert.Contains("no ValidatingAdmissionPolicyBinding has spec.policyName securedra-resourceslices-node-scoped", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Policy_failing_open_is_high()
    {
        var finding = Single(AuditChecks.AdmissionPolicy, o =>
            HardenedCluster.Find(o, "ValidatingAdmissionPolicy", "securedra-resourceslices-node-scoped")["spec"]!["failurePolicy"] = "Ignore");
        Assert.Equal(AuditSeverity.High, finding.Severity);
    }

    [Fact]
    public void Claim_policy_not_matching_templates_is_critical()
    {
        var finding = Single(AuditChecks.AdmissionPolicy, o =>
            HardenedCluster.Find(o, "ValidatingAdmissionPolicy", "securedra-claims-v1")["spec"]!["matchConstraints"]!["resourceRules"]![0]!["resources"] = new JsonArray("resourceclaims"));
        Assert.Contains("resourceclaimtemplates", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Slice_policy_missing_DELETE_is_high()
    {
        var finding = Single(AuditChecks.AdmissionPolicy, o =>
            HardenedCluster.Find(o, "ValidatingAdmissionPolicy", "securedra-resourceslices-node-scoped")["spec"]!["matchConstraints"]!["resourceRules"]![0]!["operations"] = new JsonArray("CREATE", "UPDATE"));
        Assert.Equal(AuditSeverity.High, finding.Severity);
        Assert.Contains("DELETE", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Policy_names_come_from_options()
    {
        var auditor = new HardeningAuditor(new HardeningAuditOptions { ClaimPolicyNames = ["custom-claims"] });
        var findings = auditor.Audit(HardenedCluster.Snapshot()).Where(f => f.Check == AuditChecks.AdmissionPolicy).ToList();
        Assert.Equal(2, findings.Count);
        Assert.All(findings, f => Assert.Contains("custom-claims", f.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Claim_policies_must_cover_every_served_version_between_them()
    {
        // The chart ships one claim policy per version; dropping the v1beta1 one leaves 1.32 clusters (v1beta1 only) unchecked.
        var findings = Findings(AuditChecks.AdmissionPolicy, o =>
        {
            o.Remove(HardenedCluster.Find(o, "ValidatingAdmissionPolicy", "securedra-claims-v1beta1"));
            o.Remove(HardenedCluster.Find(o, "ValidatingAdmissionPolicyBinding", "securedra-claims-v1beta1"));
        });
        Assert.Contains(findings, f => f.Message.Contains("securedra-claims-v1beta1 is missing", StringComparison.Ordinal));
        var coverage = Assert.Single(findings, f => f.Message.Contains("do not match resource.k8s.io v1beta1", StringComparison.Ordinal));
        Assert.Equal(AuditSeverity.High, coverage.Severity);
    }

    [Fact]
    public void One_claim_policy_listing_every_version_satisfies_the_coverage()
    {
        var auditor = new HardeningAuditor(new HardeningAuditOptions { ClaimPolicyNames = ["securedra-claims-v1"] });
        var findings = auditor.Audit(HardenedCluster.Snapshot(o =>
            HardenedCluster.Find(o, "ValidatingAdmissionPolicy", "securedra-claims-v1")["spec"]!["matchConstraints"]!["resourceRules"]![0]!["apiVersions"] = new JsonArray("v1", "v1beta2", "v1beta1")));
        Assert.Empty(findings);
    }

    [Fact]
    public void Missing_pod_hardening_policy_is_critical_unless_not_audited()
    {
        static void Remove(List<JsonObject> o) => o.Remove(HardenedCluster.Find(o, "ValidatingAdmissionPolicy", "securedra-pod-hardening"));
        var finding = Single(AuditChecks.AdmissionPolicy, Remove);
        Assert.Equal(AuditSeverity.Critical, finding.Severity);
        Assert.Contains("securedra-pod-hardening is missing", finding.Message, StringComparison.Ordinal);

        var auditor = new HardeningAuditor(new HardeningAuditOptions { PodHardeningPolicyName = null });
        Assert.Empty(auditor.Audit(HardenedCluster.Snapshot(Remove)));
    }

    [Fact]
    public void Missing_claim_delete_protection_policy_is_critical_unless_not_audited()
    {
        // Issue 10: without it anyone who may update a claim can strip its delete-protection finalizer.
        static void Remove(List<JsonObject> o) => o.Remove(HardenedCluster.Find(o, "ValidatingAdmissionPolicy", "securedra-claim-delete-protection"));
        var finding = Single(AuditChecks.AdmissionPolicy, Remove);
        Assert.Equal(AuditSeverity.Critical, finding.Severity);
        Assert.Contains("securedra-claim-delete-protection is missing", finding.Message, StringComparison.Ordinal);

        var auditor = new HardeningAuditor(new HardeningAuditOptions { ClaimDeleteProtectionPolicyName = null });
        Assert.Empty(auditor.Audit(HardenedCluster.Snapshot(Remove)));
    }

    [Fact]
    public void Claim_delete_protection_policy_must_see_claim_updates()
    {
        var finding = Single(AuditChecks.AdmissionPolicy, o =>
            HardenedCluster.Find(o, "ValidatingAdmissionPolicy", "securedra-claim-delete-protection")["spec"]!["matchConstraints"]!["resourceRules"]![0]!["operations"] = new JsonArray("CREATE"));
        Assert.Contains("for resourceclaims miss operations UPDATE", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pod_hardening_policy_must_match_core_pods()
    {
        var finding = Single(AuditChecks.AdmissionPolicy, o =>
            HardenedCluster.Find(o, "ValidatingAdmissionPolicy", "securedra-pod-hardening")["spec"]!["matchConstraints"]!["resourceRules"]![0]!["apiGroups"] = new JsonArray("apps"));
        Assert.Contains("do not match core pods", finding.Message, StringComparison.Ordinal);
    }

    // ---- Webhook configuration ----

    [Fact]
    public void Webhook_matching_only_v1_misses_the_beta_versions()
    {
        var finding = Single(AuditChecks.AdmissionWebhook, o =>
            HardenedCluster.Find(o, "ValidatingWebhookConfiguration", "securedra-claims")["webhooks"]![0]!["rules"]![0]!["apiVersions"] = new JsonArray("v1"));
        Assert.Equal(AuditSeverity.Medium, finding.Severity);
        Assert.Contains("do not match resource.k8s.io v1beta2, v1beta1", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Webhook_failing_open_is_medium()
    {
        var finding = Single(AuditChecks.AdmissionWebhook, o =>
            HardenedCluster.Find(o, "ValidatingWebhookConfiguration", "securedra-claims")["webhooks"]![0]!["failurePolicy"] = "Ignore");
        Assert.Equal(AuditSeverity.Medium, finding.Severity);
    }

    [Fact]
    public void Missing_webhook_configuration_is_medium()
    {
        var finding = Single(AuditChecks.AdmissionWebhook, o => o.Remove(HardenedCluster.Find(o, "ValidatingWebhookConfiguration", "securedra-claims")));
        Assert.Equal(AuditSeverity.Medium, finding.Severity);
    }

    // ---- Quota ----

    [Fact]
    public void Namespace_with_claims_and_no_claim_quota_is_high()
    {
        var finding = Single(AuditChecks.ClaimQuota, o =>
            HardenedCluster.Find(o, "ResourceQuota", "dra")["spec"]!["hard"] = new JsonObject { ["pods"] = "10" });
        Assert.Equal(AuditSeverity.High, finding.Severity);
        Assert.Equal("tenant-a", finding.Object.Name);
        Assert.Equal("Namespace", finding.Object.Kind);
    }

    [Fact]
    public void Quota_in_another_namespace_does_not_cover_claims()
    {
        var finding = Single(AuditChecks.ClaimQuota, o =>
            HardenedCluster.Find(o, "ResourceQuota", "dra")["metadata"]!["namespace"] = "tenant-b");
        Assert.Contains("namespace tenant-a", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Namespace_without_claims_needs_no_quota()
    {
        var findings = _auditor.Audit(HardenedCluster.Snapshot(o =>
        {
            o.Remove(HardenedCluster.Find(o, "ResourceQuota", "dra"));
            o.Remove(HardenedCluster.Find(o, "ResourceClaim", "gpu"));
        }));
        Assert.Empty(findings);
    }

    // ---- RBAC ----

    [Fact]
    public void Plugin_service_account_bound_to_cluster_admin_is_critical()
    {
        var finding = Single(AuditChecks.ServiceAccountRbac, o =>
            HardenedCluster.Find(o, "ClusterRoleBinding", "securedra-kubelet-plugin")["roleRef"]!["name"] = "cluster-admin");
        Assert.Equal(AuditSeverity.Critical, finding.Severity);
        Assert.Contains("ServiceAccount securedra-system/securedra-kubelet-plugin", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extra_role_binding_in_a_tenant_namespace_is_high()
    {
        var finding = Single(AuditChecks.ServiceAccountRbac, o => o.Add(JsonNode.Parse("""
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"sneaky","namespace":"tenant-a"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"claim-writer"},
             "subjects":[{"kind":"ServiceAccount","name":"securedra-controller","namespace":"securedra-system"}]}
            """)!.AsObject()));
        Assert.Equal(AuditSeverity.High, finding.Severity);
        Assert.Equal("sneaky", finding.Object.Name);
    }

    [Fact]
    public void Namespace_group_binding_counts_as_the_driver_accounts()
    {
        var finding = Single(AuditChecks.ServiceAccountRbac, o => o.Add(JsonNode.Parse("""
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"all-sa-edit"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"edit"},
             "subjects":[{"kind":"Group","name":"system:serviceaccounts:securedra-system"}]}
            """)!.AsObject()));
        Assert.Equal(AuditSeverity.Critical, finding.Severity);
    }

    [Theory]
    [InlineData("""{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]}""", "secrets")]
    [InlineData("""{"apiGroups":["*"],"resources":["resourceslices"],"verbs":["get"]}""", "wildcard")]
    [InlineData("""{"apiGroups":["resource.k8s.io"],"resources":["resourceslices"],"verbs":["*"]}""", "wildcard")]
    [InlineData("""{"apiGroups":[""],"resources":["nodes"],"verbs":["patch"]}""", "node writes")]
    [InlineData("""{"apiGroups":["resource.k8s.io"],"resources":["resourceclaims"],"verbs":["update"]}""", "claim writes")]
    [InlineData("""{"apiGroups":["rbac.authorization.k8s.io"],"resources":["clusterroles"],"verbs":["escalate"]}""", "privilege-escalation")]
    public void Own_role_with_dangerous_rule_is_flagged(string rule, string expected)
    {
        var finding = Single(AuditChecks.ServiceAccountRbac, o =>
            ((JsonArray)HardenedCluster.Find(o, "ClusterRole", "securedra-kubelet-plugin")["rules"]!).Add(JsonNode.Parse(rule)));
        Assert.Equal("securedra-kubelet-plugin", finding.Object.Name);
        Assert.Equal("ClusterRole", finding.Object.Kind);
        Assert.Contains(expected, finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_subresource_writes_are_allowed_for_the_plugin()
    {
        var findings = _auditor.Audit(HardenedCluster.Snapshot(o =>
            ((JsonArray)HardenedCluster.Find(o, "ClusterRole", "securedra-kubelet-plugin")["rules"]!).Add(JsonNode.Parse("""{"apiGroups":["resource.k8s.io"],"resources":["resourceclaims/status"],"verbs":["update","patch"]}"""))));
        Assert.Empty(findings);
    }

    // ---- DaemonSet ----

    [Theory]
    [InlineData("privileged", "true", "privileged is true", AuditSeverity.Critical)]
    [InlineData("allowPrivilegeEscalation", "true", "allowPrivilegeEscalation", AuditSeverity.High)]
    [InlineData("readOnlyRootFilesystem", "false", "readOnlyRootFilesystem", AuditSeverity.Medium)]
    [InlineData("capabilities", """{"drop":["ALL"],"add":["SYS_ADMIN"]}""", "capabilities.add [SYS_ADMIN]", AuditSeverity.High)]
    [InlineData("capabilities", """{"drop":["NET_RAW"]}""", "capabilities.drop must include ALL", AuditSeverity.Medium)]
    [InlineData("seccompProfile", """{"type":"Unconfined"}""", "seccompProfile.type is Unconfined", AuditSeverity.Medium)]
    public void Container_security_context_problems_are_flagged(string field, string valueJson, string expected, AuditSeverity severity)
    {
        var finding = Single(AuditChecks.PluginDaemonSet, o =>
            Container(o)["securityContext"]![field] = JsonNode.Parse(valueJson));
        Assert.Equal(severity, finding.Severity);
        Assert.Contains(expected, finding.Message, StringComparison.Ordinal);
        Assert.Contains("containers[0] (plugin)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_allowPrivilegeEscalation_is_flagged_because_the_default_is_true()
    {
        var finding = Single(AuditChecks.PluginDaemonSet, o => Container(o)["securityContext"]!.AsObject().Remove("allowPrivilegeEscalation"));
        Assert.Contains("allowPrivilegeEscalation must be set to false", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Privileged_init_container_is_flagged()
    {
        var finding = Single(AuditChecks.PluginDaemonSet, o =>
            PodSpec(o)["initContainers"] = JsonNode.Parse("""[{"name":"setup","securityContext":{"privileged":true,"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}}}]"""));
        Assert.Contains("initContainers[0] (setup)", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hostPID")]
    [InlineData("hostNetwork")]
    [InlineData("hostIPC")]
    public void Host_namespaces_are_critical(string field)
    {
        var finding = Single(AuditChecks.PluginDaemonSet, o => PodSpec(o)[field] = true);
        Assert.Equal(AuditSeverity.Critical, finding.Severity);
        Assert.Contains(field, finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/var/lib/kubelet")]
    [InlineData("/var/lib/kubelet/plugins")]
    [InlineData("/var/lib/kubelet/plugins/other.example.com")]
    [InlineData("/var/lib/kubelet/plugins/gpu.nvidia.com/../../pods")]
    [InlineData("/var/run/cdi-evil")]
    [InlineData("/dev")]
    [InlineData("relative/path")]
    public void HostPath_outside_the_three_allowed_directories_is_high(string path)
    {
        var finding = Single(AuditChecks.PluginDaemonSet, o => PodSpec(o)["volumes"]!.AsArray().Add(new JsonObject { ["name"] = "x", ["hostPath"] = new JsonObject { ["path"] = path } }));
        Assert.Equal(AuditSeverity.High, finding.Severity);
        Assert.Contains(path, finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HostPath_below_an_allowed_directory_is_fine()
    {
        var findings = _auditor.Audit(HardenedCluster.Snapshot(o =>
            PodSpec(o)["volumes"]!.AsArray().Add(JsonNode.Parse("""{"name":"x","hostPath":{"path":"/var/lib/kubelet/plugins/gpu.nvidia.com/checkpoint"}}"""))));
        Assert.Empty(findings);
    }

    [Fact]
    public void Missing_plugin_DaemonSet_is_reported()
    {
        var finding = Single(AuditChecks.PluginDaemonSet, o => o.Remove(HardenedCluster.Find(o, "DaemonSet", "securedra-kubelet-plugin")));
        Assert.Equal(AuditSeverity.Medium, finding.Severity);
    }

    // ---- Ordering and output ----

    [Fact]
    public void Findings_are_sorted_most_severe_first_and_render_as_table_and_json()
    {
        var findings = _auditor.Audit(HardenedCluster.Snapshot(o =>
        {
            Container(o)["securityContext"]!["readOnlyRootFilesystem"] = false;
            PodSpec(o)["hostPID"] = true;
        }));
        Assert.Equal([AuditSeverity.Critical, AuditSeverity.Medium], findings.Select(f => f.Severity));
        var table = AuditReportWriter.Table(findings);
        Assert.StartsWith("SEVERITY", table, StringComparison.Ordinal);
        Assert.Contains("CRITICAL  plugin-daemonset  DaemonSet/securedra-system/securedra-kubelet-plugin", table, StringComparison.Ordinal);
        var json = JsonNode.Parse(AuditReportWriter.Json(findings))!;
        Assert.Equal(2, (int)json["count"]!);
        Assert.Equal("plugin-daemonset", (string?)json["findings"]![0]!["id"]);
        Assert.Equal("Critical", (string?)json["findings"]![0]!["severity"]);
        Assert.Equal("DaemonSet", (string?)json["findings"]![0]!["object"]!["kind"]);
        Assert.Equal("securedra-system", (string?)json["findings"]![0]!["object"]!["namespace"]);
    }

    private static JsonObject PodSpec(List<JsonObject> objects) =>
        HardenedCluster.Find(objects, "DaemonSet", "securedra-kubelet-plugin")["spec"]!["template"]!["spec"]!.AsObject();

    private static JsonObject Container(List<JsonObject> objects) => PodSpec(objects)["containers"]![0]!.AsObject();

    private List<AuditFinding> Findings(string check, Action<List<JsonObject>> mutate)
    {
        var findings = _auditor.Audit(HardenedCluster.Snapshot(mutate));
        Assert.All(findings, f => Assert.Equal(check, f.Check));
        return [.. findings];
    }

    private AuditFinding Single(string check, Action<List<JsonObject>> mutate)
    {
        var findings = Findings(check, mutate);
        return Assert.Single(findings);
    }
}
