using System.Text.Json.Nodes;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Tests.Support;

namespace SecureDra.Controller.Tests.Audit;

/// <summary>
/// The plugin DaemonSet's MIG manager container (docs/mig.md "Privilege") is a known, bounded exception: exactly that
/// container, running securedra mig-manager from the plugin's image, may add SYS_ADMIN and leave privilege escalation
/// unset. Everything more — privileged, another capability, the same grant on the plugin container or on a look-alike,
/// host namespaces — is still a finding.
/// </summary>
public sealed class MigManagerAuditTests
{
    private const string Manager = """
        {"name":"mig-manager","image":"securedra:1","args":["mig-manager","--mig-manager-socket=/run/securedra-mig/mig-manager.sock"],
         "securityContext":{"privileged":false,"allowPrivilegeEscalation":true,"readOnlyRootFilesystem":true,
                            "capabilities":{"drop":["ALL"],"add":["SYS_ADMIN"]},"seccompProfile":{"type":"RuntimeDefault"}}}
        """;

    private readonly HardeningAuditor _auditor = new(new HardeningAuditOptions());

    [Fact]
    public void The_charts_mig_manager_container_beside_the_plugin_is_no_finding()
    {
        var findings = Findings(_ => { });
        Assert.True(findings.Count == 0, AuditReportWriter.Table(findings));
    }

    [Theory]
    [InlineData("privileged", "true", "privileged is true", AuditSeverity.Critical)]
    [InlineData("readOnlyRootFilesystem", "false", "readOnlyRootFilesystem must be true", AuditSeverity.Medium)]
    [InlineData("capabilities", """{"drop":["ALL"],"add":["SYS_ADMIN","NET_ADMIN"]}""", "capabilities.add [SYS_ADMIN, NET_ADMIN] must be empty", AuditSeverity.High)]
    [InlineData("capabilities", """{"drop":["ALL"],"add":["SYS_PTRACE"]}""", "capabilities.add [SYS_PTRACE] must be empty", AuditSeverity.High)]
    [InlineData("capabilities", """{"add":["SYS_ADMIN"]}""", "capabilities.drop must include ALL", AuditSeverity.Medium)]
    [InlineData("seccompProfile", """{"type":"Unconfined"}""", "seccompProfile.type is Unconfined", AuditSeverity.Medium)]
    public void Anything_beyond_the_documented_grant_on_the_manager_is_still_a_finding(string field, string json, string expected, AuditSeverity severity)
    {
        var findings = Findings(o => ManagerOf(o)["securityContext"]![field] = JsonNode.Parse(json));
        var finding = Assert.Single(findings, f => f.Message.Contains(expected, StringComparison.Ordinal));
        Assert.Equal(severity, finding.Severity);
        Assert.Contains("containers[1] (mig-manager)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_grant_on_the_plugin_container_is_a_finding()
    {
        var findings = Findings(o =>
        {
            var plugin = PodSpec(o)["containers"]![0]!["securityContext"]!;
            plugin["capabilities"] = JsonNode.Parse("""{"drop":["ALL"],"add":["SYS_ADMIN"]}""");
            plugin["allowPrivilegeEscalation"] = true;
        });
        Assert.Contains(findings, f => f.Message.Contains("containers[0] (plugin).securityContext: capabilities.add [SYS_ADMIN] must be empty", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Message.Contains("containers[0] (plugin).securityContext: allowPrivilegeEscalation must be set to false", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("image", "\"attacker/tools:1\"")]
    [InlineData("args", """["sh","-c","nvidia-smi mig -dgi"]""")]
    [InlineData("name", "\"mig-helper\"")]
    public void A_look_alike_gets_no_exception(string field, string json)
    {
        var findings = Findings(o => ManagerOf(o)[field] = JsonNode.Parse(json));
        Assert.Contains(findings, f => f.Message.Contains("capabilities.add [SYS_ADMIN] must be empty", StringComparison.Ordinal) && f.Severity == AuditSeverity.High);
        Assert.Contains(findings, f => f.Message.Contains("allowPrivilegeEscalation must be set to false", StringComparison.Ordinal));
    }

    [Fact]
    public void The_manager_as_an_init_container_gets_no_exception()
    {
        var findings = Findings(o =>
        {
            var manager = ManagerOf(o);
            PodSpec(o)["containers"]!.AsArray().Remove(manager);
            PodSpec(o)["initContainers"] = new JsonArray(manager);
        });
        Assert.Contains(findings, f => f.Message.Contains("initContainers[0] (mig-manager).securityContext: capabilities.add [SYS_ADMIN] must be empty", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("hostPID")]
    [InlineData("hostNetwork")]
    [InlineData("hostIPC")]
    public void Host_namespaces_stay_critical_with_the_manager(string field)
    {
        var finding = Assert.Single(Findings(o => PodSpec(o)[field] = true));
        Assert.Equal(AuditSeverity.Critical, finding.Severity);
    }

    [Fact]
    public void A_dev_hostPath_for_the_manager_is_still_high()
    {
        var finding = Assert.Single(Findings(o => PodSpec(o)["volumes"]!.AsArray().Add(JsonNode.Parse("""{"name":"dev","hostPath":{"path":"/dev"}}"""))));
        Assert.Equal(AuditSeverity.High, finding.Severity);
    }

    private List<AuditFinding> Findings(Action<List<JsonObject>> mutate) =>
        [.. _auditor.Audit(HardenedCluster.Snapshot(o =>
        {
            PodSpec(o)["containers"]!.AsArray().Add(JsonNode.Parse(Manager));
            mutate(o);
        })).Where(f => f.Check == AuditChecks.PluginDaemonSet)];

    private static JsonObject PodSpec(List<JsonObject> objects) =>
        HardenedCluster.Find(objects, "DaemonSet", "securedra-kubelet-plugin")["spec"]!["template"]!["spec"]!.AsObject();

    private static JsonObject ManagerOf(List<JsonObject> objects) =>
        PodSpec(objects)["containers"]!.AsArray().Select(c => c!.AsObject()).First(c => (string?)c["args"]?[0] == "mig-manager" || (string?)c["name"] == "mig-manager" || (string?)c["image"] == "attacker/tools:1");
}
