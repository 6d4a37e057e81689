using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// The chart with <c>mode: proxy</c> (issue 12 item 5): every value under <c>proxy:</c> reaches the proxy's arguments
/// or mounts, the schema rejects malformed ones, layouts that would let the kubelet see the vendor or share a socket
/// or checkpoint fail at render, the proxy has no slice writes and no CDI dir, and its DeviceTaintRules are kept to
/// its own node's devices (CEL evaluated with VAP semantics in js/eval-proxy-policies.mjs).
/// </summary>
public sealed class ProxyModeChartTests
{
    private const string Ns = RenderedChart.Namespace;
    private static readonly Lazy<(string File, IReadOnlyList<JsonObject> Objects)> Default = new(() => RenderToFile("proxy-default"));

    private static (string File, IReadOnlyList<JsonObject> Objects) RenderToFile(string name, params string[] extra) =>
        RenderedChart.RenderToRunFile(name, ["--set", "mode=proxy", .. extra]);

    private static JsonObject Get(IReadOnlyList<JsonObject> objects, string kind, string name) =>
        objects.Single(o => o.Str("kind") == kind && o.Str("metadata.name") == name);

    private static IReadOnlyList<string> Args(IReadOnlyList<JsonObject> objects, string kind, string name) =>
        Get(objects, kind, name).Items("spec.template.spec.containers").First().Strings("args");

    private static Tool.Result RenderRaw(params string[] extra) =>
        Tool.Run(RepoPaths.Helm, ["template", "securedra", RepoPaths.Chart, "--namespace", Ns, "--set", "mode=proxy", .. extra]);

    [Fact]
    public void Proxy_mode_lints_strictly()
    {
        var r = Tool.Run(RepoPaths.Helm, ["lint", "--strict", RepoPaths.Chart, "--set", "mode=proxy"]);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        r = Tool.Run(RepoPaths.Helm, ["lint", "--strict", RepoPaths.Chart, "--set", "mode=proxy", "--set", "proxy.deviceTaintRules.enabled=false"]);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
    }

    [Fact]
    public void Every_proxy_value_reaches_the_proxy_daemonset()
    {
        var (_, objects) = RenderToFile("proxy-values",
            "--set", "proxy.vendorRegistryDir=/srv/vendor/reg", "--set", "proxy.vendorPluginsDir=/srv/vendor/plugins",
            "--set", "proxy.stateDir=/srv/securedra/state", "--set", "proxy.vendorUnreachableTimeout=2m",
            "--set", "proxy.allowMps=true", "--set", "proxy.allowVfio=true", "--set", "proxy.allowComputeDomain=true",
            "--set", "proxy.deviceTaintRules.enabled=false", "--set", "driverName=gpu.example.com");
        var args = Args(objects, "DaemonSet", "securedra-kubelet-plugin");
        Assert.Equal("proxy", args[0]);
        foreach (var expected in new[]
                 {
                     "--node-name=$(NODE_NAME)", "--vendor-driver-name=gpu.example.com",
                     "--kubelet-registrar-directory-path=/var/lib/kubelet/plugins_registry", "--kubelet-plugins-directory-path=/var/lib/kubelet/plugins",
                     "--vendor-registry-directory-path=/srv/vendor/reg", "--vendor-plugins-directory-path=/srv/vendor/plugins",
                     "--state-directory-path=/srv/securedra/state", "--vendor-unreachable-timeout=2m",
                     "--allow-mps=true", "--allow-vfio=true", "--allow-compute-domain=true", "--device-taint-rules=false",
                 })
        {
            Assert.Contains(expected, args);
        }

        Assert.DoesNotContain(args, a => a.StartsWith("--cdi-root", StringComparison.Ordinal) || a.StartsWith("--node-", StringComparison.Ordinal) && !a.StartsWith("--node-name", StringComparison.Ordinal));
        var hostPaths = Get(objects, "DaemonSet", "securedra-kubelet-plugin").Items("spec.template.spec.volumes")
            .Where(v => v.At("hostPath") is not null).Select(v => v.Str("hostPath.path")).ToList();
        Assert.Equal(["/var/lib/kubelet/plugins_registry", "/var/lib/kubelet/plugins/gpu.example.com", "/srv/vendor/reg", "/srv/vendor/plugins", "/srv/securedra/state"], hostPaths);

        // The webhook judges configs as the proxy will.
        var controller = Args(objects, "Deployment", "securedra-controller");
        Assert.Contains("--vendor=nvidia", controller);
        Assert.Contains("--allow-mps=true", controller);
        Assert.Contains("--allow-vfio=true", controller);
        Assert.Contains("--allow-compute-domain=true", controller);

        // deviceTaintRules.enabled=false: no grant, no policy.
        Assert.DoesNotContain(Get(objects, "ClusterRole", "securedra-kubelet-plugin").Items("rules"), r => r.Strings("resources").Contains("devicetaintrules"));
        Assert.DoesNotContain(objects, o => o.Str("metadata.name") == "securedra-devicetaintrules-node-scoped");
    }

    [Fact]
    public void Plugin_mode_is_unchanged_by_the_proxy_values()
    {
        var args = Args(RenderedChart.RenderToRunFile("plugin", "--set", "proxy.allowMps=true").Objects, "DaemonSet", "securedra-kubelet-plugin");
        Assert.Equal("kubelet-plugin", args[0]);
        Assert.DoesNotContain(args, a => a.Contains("vendor", StringComparison.Ordinal) || a.StartsWith("--allow-", StringComparison.Ordinal));
    }

    [Fact]
    public void The_proxy_has_no_slice_writes_and_may_only_manage_devicetaintrules()
    {
        var role = Get(Default.Value.Objects, "ClusterRole", "securedra-kubelet-plugin");
        var grants = role.Items("rules").SelectMany(r =>
            from g in r.Strings("apiGroups") from res in r.Strings("resources") from v in r.Strings("verbs") select $"{g}|{res}|{v}").ToHashSet();
        Assert.Equal(
            new HashSet<string>
            {
                "resource.k8s.io|resourceclaims|get",
                "resource.k8s.io|resourceslices|get", "resource.k8s.io|resourceslices|list", "resource.k8s.io|resourceslices|watch",
                "resource.k8s.io|devicetaintrules|get", "resource.k8s.io|devicetaintrules|create", "resource.k8s.io|devicetaintrules|update", "resource.k8s.io|devicetaintrules|delete",
                "|events|create",
            },
            grants);
        Assert.DoesNotContain(role.Items("rules"), r => r.Strings("resourceNames").Count > 0 || r.Strings("verbs").Contains("*") || r.Strings("resources").Contains("*"));
    }

    [Fact]
    public void The_proxy_writes_no_cdi_and_the_device_class_carries_no_securedra_config()
    {
        var pod = Get(Default.Value.Objects, "DaemonSet", "securedra-kubelet-plugin").At("spec.template.spec")!;
        Assert.DoesNotContain(pod.Items("volumes"), v => v.Str("hostPath.path") == "/var/run/cdi");
        Assert.DoesNotContain(pod.Items("volumes"), v => v.Str("hostPath.path") == "/var/lib/kubelet/plugins/gpu.nvidia.com/checkpoint.json");
        var deviceClass = Assert.Single(Default.Value.Objects, o => o.Str("kind") == "DeviceClass");
        Assert.Null(deviceClass.At("spec.config"));
    }

    [Theory]
    [InlineData("mode=bogus", "/mode")]
    [InlineData("proxy.vendorRegistryDir=relative/dir", "/proxy/vendorRegistryDir")]
    [InlineData("proxy.vendorPluginsDir=/trailing/", "/proxy/vendorPluginsDir")]
    [InlineData("proxy.stateDir=", "/proxy/stateDir")]
    [InlineData("proxy.vendorUnreachableTimeout=0s", "/proxy/vendorUnreachableTimeout")]
    [InlineData("proxy.vendorUnreachableTimeout=1h", "/proxy/vendorUnreachableTimeout")]
    [InlineData("proxy.allowMps=yes", "/proxy/allowMps")]
    [InlineData("proxy.unknown=1", "/proxy")]
    [InlineData("proxy.deviceTaintRules.enabled=maybe", "/proxy/deviceTaintRules/enabled")]
    public void The_schema_rejects_malformed_proxy_values(string set, string where)
    {
        var r = RenderRaw(set.StartsWith("proxy.allowMps", StringComparison.Ordinal) || set.Contains("enabled", StringComparison.Ordinal) ? "--set-string" : "--set", set);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(where, r.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("proxy.vendorRegistryDir=/var/lib/kubelet/plugins_registry", "the kubelet watches its registry recursively")]
    [InlineData("proxy.vendorRegistryDir=/var/lib/kubelet/plugins_registry/vendor", "the kubelet watches its registry recursively")]
    [InlineData("proxy.vendorPluginsDir=/var/lib/kubelet/plugins", "the vendor's and the proxy's DRA sockets would be one file")]
    [InlineData("proxy.vendorPluginsDir=/var/lib/kubelet/plugins/gpu.nvidia.com", "the vendor's and the proxy's DRA sockets would be one file")]
    [InlineData("proxy.vendorPluginsDir=/var/lib/kubelet/plugins_registry/x", "the kubelet would see the vendor's registration")]
    [InlineData("proxy.stateDir=/var/lib/kubelet/plugins/gpu.nvidia.com", "NVIDIA's default checkpoint")]
    [InlineData("proxy.stateDir=/var/lib/securedra/vendor/plugins/state", "the vendor's checkpoint.json would share the proxy's state")]
    [InlineData("proxy.stateDir=/var/lib/securedra/vendor", "the vendor's checkpoint.json would share the proxy's state")]
    [InlineData("proxy.stateDir=/var/lib/securedra/vendor/plugins_registry", "the vendor could write into the proxy's state")]
    public void Layouts_that_let_the_kubelet_see_the_vendor_or_share_state_fail_at_render(string set, string reason)
    {
        var r = RenderRaw("--set", set);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(reason, r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sibling_directory_with_a_common_prefix_is_not_an_overlap()
    {
        var r = RenderRaw("--set", "proxy.vendorRegistryDir=/var/lib/kubelet/plugins_registry_vendor");
        Assert.True(r.ExitCode == 0, r.StdErr);
    }

    private static List<JsonNode> PolicyResults() =>
        [.. JsonNode.Parse(Tool.Node("eval-proxy-policies.mjs", Default.Value.File))!.AsArray().Select(n => n!)];

    [Fact]
    public void The_proxys_device_taint_rules_are_kept_to_one_device_of_its_own_node_in_every_served_version()
    {
        var results = PolicyResults();
        var wrong = new List<string>();
        foreach (var c in results)
        {
            var allowed = (bool)c.At("allowed")!;
            var notApplied = c.At("notApplied") is JsonValue v && (bool)v;
            if (allowed != (c.Str("expected") == "allow"))
            {
                wrong.Add($"{c.Str("suite")} | {c.Str("name")}: expected {c.Str("expected")} [{string.Join("; ", c.Strings("failed"))}]");
            }
            else if (c.Str("suite").StartsWith("devicetaintrules/", StringComparison.Ordinal) && notApplied == c.Strings("applied").Count > 0)
            {
                wrong.Add($"{c.Str("suite")} | {c.Str("name")}: applied [{string.Join(", ", c.Strings("applied"))}]");
            }
        }

        Assert.Contains(results, c => c.Str("suite") == "devicetaintrules/1.33/v1alpha3");
        Assert.Contains(results, c => c.Str("suite") == "devicetaintrules/1.36/v1beta2");
        Assert.Contains(results, c => c.Str("suite") == "proxy-pod-hardening");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void The_offline_audit_of_a_proxy_install_passes_with_the_flags_the_chart_gives_the_controller_and_catches_slice_writes()
    {
        var dir = Directory.CreateTempSubdirectory("securedra-proxy-audit-").FullName;
        try
        {
            var yaml = RenderedChart.Render(Ns, "--set", "mode=proxy");
            File.WriteAllText(Path.Combine(dir, "proxy.yaml"), yaml);
            var objects = RenderedChart.Parse(Path.Combine(dir, "proxy.yaml"));
            var controller = Args(objects, "Deployment", "securedra-controller");
            var auditFlags = SecuredraCli.HelpOf("audit").Flags;
            var passed = controller.Skip(1).Where(a => auditFlags.Contains(a.Split('=', 2)[0])).ToList();
            Assert.Contains("--mode=proxy", passed);
            Assert.Contains("--proxy-host-paths=/var/lib/securedra/vendor/plugins_registry,/var/lib/securedra/vendor/plugins,/var/lib/securedra/proxy", passed);

            // Judged as a plugin install, the proxy's hostPaths and its class without config are findings.
            var asPlugin = SecuredraCli.Run("audit", "--manifests", dir);
            Assert.Equal(1, asPlugin.ExitCode);

            var asProxy = SecuredraCli.Run(["audit", "--manifests", dir, .. passed]);
            Assert.True(asProxy.ExitCode == 0, $"audit of the proxy install exited {asProxy.ExitCode}:\n{asProxy.StdOut}\n{asProxy.StdErr}");

            // A proxy that may write slices would fight the vendor's slice controller.
            var broken = objects.Select(o => o.DeepClone().AsObject()).ToList();
            var role = broken.Single(o => o.Str("kind") == "ClusterRole" && o.Str("metadata.name") == "securedra-kubelet-plugin");
            role["rules"]!.AsArray().Add(JsonNode.Parse("""{"apiGroups":["resource.k8s.io"],"resources":["resourceslices"],"verbs":["create","delete"]}"""));
            File.Delete(Path.Combine(dir, "proxy.yaml"));
            File.WriteAllText(Path.Combine(dir, "broken.json"), new JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = new JsonArray([.. broken]) }.ToJsonString());
            var result = SecuredraCli.Run(["audit", "--manifests", dir, .. passed]);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("grants the proxy ResourceSlice writes (create, delete)", result.StdOut, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
