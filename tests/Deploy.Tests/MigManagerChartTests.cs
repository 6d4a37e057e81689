using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// <c>kubeletPlugin.migManager</c> (issue 13 item 5, docs/mig.md "Privilege"): off by default and then absent from the
/// manifest; on, it adds exactly one container, <c>mig-manager</c>, with CAP_SYS_ADMIN as its only capability and the
/// NVIDIA runtime's MIG capability variables, shares a memory emptyDir socket with the plugin container, and passes
/// <c>--mig-manager-socket</c> to the plugin, whose container stays exactly as unprivileged as before. Allowed only with
/// migMode static or dynamic and in plugin mode. The namespace's pod-hardening policy admits exactly that container
/// (CEL evaluated with VAP semantics in js/eval-mig-manager-policies.mjs).
/// </summary>
public sealed class MigManagerChartTests
{
    private const string Ns = RenderedChart.Namespace;
    private const string Socket = "/run/securedra-mig/mig-manager.sock";
    private static readonly Lazy<(string File, IReadOnlyList<JsonObject> Objects)> Enabled = new(() => RenderedChart.RenderToRunFile("mig-manager", "--set", "kubeletPlugin.migMode=static", "--set", "kubeletPlugin.migManager.enabled=true"));
    private static readonly Lazy<(string File, IReadOnlyList<JsonObject> Objects)> Default = new(() => RenderedChart.RenderToRunFile("mig-default", "--set", "kubeletPlugin.migMode=static"));

    private static JsonNode Pod(IReadOnlyList<JsonObject> objects) =>
        objects.Single(o => o.Str("kind") == "DaemonSet" && o.Str("metadata.name") == "securedra-kubelet-plugin").At("spec.template.spec")!;

    private static JsonNode Container(IReadOnlyList<JsonObject> objects, string name) => Pod(objects).Items("containers").Single(c => c.Str("name") == name);

    private static Tool.Result RenderRaw(params string[] extra) =>
        Tool.Run(RepoPaths.Helm, ["template", "securedra", RepoPaths.Chart, "--namespace", Ns, .. extra]);

    [Fact]
    public void Off_by_default_the_pod_has_only_the_plugin_container_and_no_socket_flag()
    {
        var pod = Pod(Default.Value.Objects);
        Assert.Equal(["kubelet-plugin"], pod.Items("containers").Select(c => c.Str("name")));
        Assert.DoesNotContain(Container(Default.Value.Objects, "kubelet-plugin").Strings("args"), a => a.StartsWith("--mig-manager", StringComparison.Ordinal));
        Assert.DoesNotContain(pod.Items("volumes"), v => v.Str("name").StartsWith("mig-manager", StringComparison.Ordinal));
    }

    [Fact]
    public void Enabled_it_adds_exactly_the_manager_container_with_sys_admin_alone_and_the_plugin_stays_unprivileged()
    {
        var objects = Enabled.Value.Objects;
        var pod = Pod(objects);
        Assert.Equal(["kubelet-plugin", "mig-manager"], pod.Items("containers").Select(c => c.Str("name")));
        Assert.Empty(pod.Items("initContainers"));
        foreach (var host in new[] { "hostPID", "hostIPC", "hostNetwork" })
        {
            Assert.False((bool?)pod.At(host) ?? false, host);
        }

        // The plugin container: exactly as unprivileged as without the manager.
        var plugin = Container(objects, "kubelet-plugin");
        var without = Container(Default.Value.Objects, "kubelet-plugin");
        Assert.True(JsonNode.DeepEquals(without.At("securityContext"), plugin.At("securityContext")), plugin.At("securityContext")!.ToJsonString());
        Assert.False((bool)plugin.At("securityContext.allowPrivilegeEscalation")!);
        Assert.Empty(plugin.Strings("securityContext.capabilities.add"));
        Assert.DoesNotContain(plugin.Items("env"), e => e.Str("name").StartsWith("NVIDIA_MIG_", StringComparison.Ordinal));
        Assert.Contains($"--mig-manager-socket={Socket}", plugin.Strings("args"));
        Assert.Contains("--mig-mode=static", plugin.Strings("args"));

        // The manager: SYS_ADMIN only, never privileged, read-only root, RuntimeDefault seccomp, no hostPath.
        var manager = Container(objects, "mig-manager");
        Assert.Equal(plugin.Str("image"), manager.Str("image"));
        Assert.Equal(["mig-manager", $"--mig-manager-socket={Socket}", "--gpu-backend=nvidia", "--log-format=json"], manager.Strings("args"));
        Assert.False((bool)manager.At("securityContext.privileged")!);
        Assert.True((bool)manager.At("securityContext.readOnlyRootFilesystem")!);
        Assert.Equal(["ALL"], manager.Strings("securityContext.capabilities.drop"));
        Assert.Equal(["SYS_ADMIN"], manager.Strings("securityContext.capabilities.add"));
        Assert.Equal("RuntimeDefault", manager.Str("securityContext.seccompProfile.type"));
        var env = manager.Items("env").ToDictionary(e => e.Str("name"), e => e.Str("value"));
        Assert.Equal("all", env["NVIDIA_MIG_CONFIG_DEVICES"]);
        Assert.Equal("all", env["NVIDIA_MIG_MONITOR_DEVICES"]);
        Assert.Empty(manager.Items("ports"));

        // The socket: a memory emptyDir mounted by exactly these two containers; no new hostPath.
        var socketVolume = pod.Items("volumes").Single(v => v.Str("name") == "mig-manager-socket");
        Assert.Equal("Memory", socketVolume.Str("emptyDir.medium"));
        Assert.Equal(
            ["kubelet-plugin", "mig-manager"],
            pod.Items("containers").Where(c => c.Items("volumeMounts").Any(m => m.Str("name") == "mig-manager-socket")).Select(c => c.Str("name")));
        Assert.All(manager.Items("volumeMounts"), m => Assert.Null(pod.Items("volumes").Single(v => v.Str("name") == m.Str("name")).At("hostPath")));
        Assert.Equal(
            Pod(Default.Value.Objects).Items("volumes").Where(v => v.At("hostPath") is not null).Select(v => v.Str("hostPath.path")),
            pod.Items("volumes").Where(v => v.At("hostPath") is not null).Select(v => v.Str("hostPath.path")));
    }

    [Theory]
    [InlineData("kubeletPlugin.migMode=off", "needs kubeletPlugin.migMode static or dynamic")]
    [InlineData("mode=proxy", "beside the kubelet plugin (mode plugin), not the driver proxy")]
    public void It_fails_at_render_without_a_mig_mode_that_uses_it(string set, string reason)
    {
        var extra = set.StartsWith("mode=", StringComparison.Ordinal)
            ? new[] { "--set", "kubeletPlugin.migManager.enabled=true", "--set", "kubeletPlugin.migMode=static", "--set", set }
            : ["--set", "kubeletPlugin.migManager.enabled=true", "--set", set];
        var r = RenderRaw(extra);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(reason, r.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kubeletPlugin.migManager.enabled=maybe", "/kubeletPlugin/migManager/enabled")]
    [InlineData("kubeletPlugin.migManager.privileged=true", "/kubeletPlugin/migManager")]
    public void The_schema_rejects_malformed_values(string set, string where)
    {
        var r = RenderRaw("--set-string", set, "--set", "kubeletPlugin.migMode=static");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(where, r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pod_hardening_policy_admits_exactly_the_charts_manager_container()
    {
        var results = JsonNode.Parse(Tool.Node("eval-mig-manager-policies.mjs", Enabled.Value.File, Default.Value.File))!.AsArray().Select(n => n!).ToList();
        Assert.True(results.Count >= 10, $"only {results.Count} cases");
        var wrong = results.Where(c => (bool)c.At("allowed")! != (c.Str("expected") == "allow"))
            .Select(c => $"{c.Str("name")}: expected {c.Str("expected")} [{string.Join("; ", c.Strings("failed"))}]").ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Contains(results, c => c.Str("name") == "the kubelet-plugin container with SYS_ADMIN" && c.Str("expected") == "deny");
    }

    [Fact]
    public void It_lints_strictly()
    {
        var r = Tool.Run(RepoPaths.Helm, ["lint", "--strict", RepoPaths.Chart, "--set", "kubeletPlugin.migMode=dynamic", "--set", "kubeletPlugin.migManager.enabled=true"]);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
    }
}
