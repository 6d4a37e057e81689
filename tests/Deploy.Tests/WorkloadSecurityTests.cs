using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>securityContext, host access, volumes and wiring of the rendered DaemonSet and Deployment.</summary>
[Collection(ChartCollection.Name)]
public sealed class WorkloadSecurityTests(RenderedChart chart)
{
    private const string RegistrarDir = "/var/lib/kubelet/plugins_registry";
    private const string PluginDir = "/var/lib/kubelet/plugins/gpu.nvidia.com";
    private const string CdiDir = "/var/run/cdi";

    // Read by the node checks for paths around DRA (toolkit, containerd, CRI-O, device plugin, dpkg).
    private static readonly string[] NodeHardeningDirs =
    [
        "/usr/local/nvidia/toolkit/.config/nvidia-container-runtime", "/etc/nvidia-container-runtime", "/etc/containerd",
        "/etc/crio/crio.conf.d", "/var/lib/kubelet/device-plugins", "/var/lib/dpkg",
    ];

    private JsonObject DaemonSet => chart.Single("DaemonSet");
    private JsonObject Deployment => chart.Single("Deployment");
    private JsonNode PluginPod => DaemonSet.At("spec.template.spec")!;
    private JsonNode ControllerPod => Deployment.At("spec.template.spec")!;
    private static JsonNode Container(JsonNode pod) => Assert.Single(pod.Items("containers"));

    public static TheoryData<string> Workloads => new() { "DaemonSet", "Deployment" };

    [Theory]
    [MemberData(nameof(Workloads))]
    public void Containers_are_unprivileged_with_every_capability_dropped(string kind)
    {
        var pod = chart.Single(kind).At("spec.template.spec")!;
        Assert.Empty(pod.Items("initContainers"));
        Assert.Null(pod.At("ephemeralContainers"));
        var sc = Container(pod).At("securityContext");
        Assert.False((bool)sc.At("privileged")!);
        Assert.False((bool)sc.At("allowPrivilegeEscalation")!);
        Assert.True((bool)sc.At("readOnlyRootFilesystem")!);
        Assert.Equal(["ALL"], sc.Strings("capabilities.drop"));
        Assert.Null(sc.At("capabilities.add"));
        Assert.Equal("RuntimeDefault", sc.Str("seccompProfile.type"));
        Assert.Equal("RuntimeDefault", pod.Str("securityContext.seccompProfile.type"));
        Assert.Null(sc.At("procMount"));
        Assert.Null(sc.At("windowsOptions"));
    }

    [Theory]
    [MemberData(nameof(Workloads))]
    public void Pods_share_no_host_namespace(string kind)
    {
        var pod = chart.Single(kind).At("spec.template.spec")!;
        foreach (var field in new[] { "hostPID", "hostIPC", "hostNetwork", "hostUsers" })
        {
            var v = pod.At(field);
            Assert.True(v is null || (field == "hostUsers" ? (bool)v! : !(bool)v!), $"{kind} sets {field}");
        }

        Assert.DoesNotContain(Container(pod).Items("ports"), p => p.At("hostPort") is not null);
    }

    [Fact]
    public void Plugin_mounts_only_the_registrar_its_own_plugin_dir_and_the_cdi_dir_at_the_same_paths()
    {
        var hostPaths = PluginPod.Items("volumes").Where(v => v.At("hostPath") is not null).ToList();
        var writable = new[] { CdiDir, PluginDir, RegistrarDir };
        Assert.Equal(writable.Concat(NodeHardeningDirs).Order(), hostPaths.Select(v => v.Str("hostPath.path")).Order());
        var mounts = Container(PluginPod).Items("volumeMounts").ToDictionary(m => m.Str("name"), m => m);
        // The node checks' directories (paths around DRA) are read-only; only the three kubelet DRA dirs are writable.
        Assert.All(hostPaths, v => Assert.Equal(!writable.Contains(v.Str("hostPath.path")), mounts[v.Str("name")].At("readOnly") is { } ro && (bool)ro));
        foreach (var v in hostPaths)
        {
            var mount = mounts[v.Str("name")];
            Assert.Equal(v.Str("hostPath.path"), mount.Str("mountPath"));
            Assert.Null(mount.At("mountPropagation"));
            Assert.Null(mount.At("subPath"));
        }

        Assert.Equal("Directory", hostPaths.Single(v => v.Str("hostPath.path") == RegistrarDir).Str("hostPath.type"));
        // Nothing else from the host: only emptyDir besides those hostPaths.
        Assert.All(PluginPod.Items("volumes").Where(v => v.At("hostPath") is null), v => Assert.NotNull(v.At("emptyDir")));
        Assert.Equal("/tmp", mounts["tmp"].Str("mountPath"));
    }

    [Fact]
    public void Plugin_gets_gpus_through_the_nvidia_runtime_and_its_identity_from_the_downward_api()
    {
        Assert.Equal("nvidia", PluginPod.Str("runtimeClassName"));
        var env = Container(PluginPod).Items("env").ToDictionary(e => e.Str("name"), e => e);
        Assert.Equal("all", env["NVIDIA_VISIBLE_DEVICES"].Str("value"));
        Assert.Equal("compute,utility", env["NVIDIA_DRIVER_CAPABILITIES"].Str("value"));
        Assert.Equal("spec.nodeName", env["NODE_NAME"].Str("valueFrom.fieldRef.fieldPath"));
        Assert.Equal("metadata.uid", env["POD_UID"].Str("valueFrom.fieldRef.fieldPath"));
        Assert.DoesNotContain(PluginPod.Items("volumes"), v => v.Str("hostPath.path").StartsWith("/dev", StringComparison.Ordinal));
    }

    [Fact]
    public void Plugin_runs_as_root_without_capabilities_and_the_controller_as_65532()
    {
        Assert.Equal(0, (int)PluginPod.At("securityContext.runAsUser")!);
        Assert.False((bool)PluginPod.At("securityContext.runAsNonRoot")!);
        Assert.True((bool)ControllerPod.At("securityContext.runAsNonRoot")!);
        Assert.Equal(65532, (int)ControllerPod.At("securityContext.runAsUser")!);
        Assert.Equal(65532, (int)Container(ControllerPod).At("securityContext.runAsUser")!);
    }

    [Fact]
    public void Plugin_rolls_with_surge_so_a_node_is_never_without_a_registered_plugin()
    {
        Assert.Equal("RollingUpdate", DaemonSet.Str("spec.updateStrategy.type"));
        Assert.Equal(1, (int)DaemonSet.At("spec.updateStrategy.rollingUpdate.maxSurge")!);
        Assert.Equal(0, (int)DaemonSet.At("spec.updateStrategy.rollingUpdate.maxUnavailable")!);
    }

    [Theory]
    [MemberData(nameof(Workloads))]
    public void Workloads_have_requests_limits_and_probes_on_the_http_endpoint(string kind)
    {
        var c = Container(chart.Single(kind).At("spec.template.spec")!);
        foreach (var r in new[] { "requests", "limits" })
        {
            Assert.False(string.IsNullOrEmpty(c.Str($"resources.{r}.cpu")), $"{kind} {r}.cpu");
            Assert.False(string.IsNullOrEmpty(c.Str($"resources.{r}.memory")), $"{kind} {r}.memory");
        }

        Assert.Equal("/healthz", c.Str("livenessProbe.httpGet.path"));
        Assert.Equal("/readyz", c.Str("readinessProbe.httpGet.path"));
        var port = c.Items("ports").Single(p => p.Str("name") == "http");
        Assert.Equal("http", c.Str("livenessProbe.httpGet.port"));
        Assert.Contains($"--http-endpoint=0.0.0.0:{(int)port.At("containerPort")!}", c.Strings("args"));
    }

    [Fact]
    public void One_image_runs_each_component_as_a_subcommand()
    {
        var plugin = Container(PluginPod);
        var controller = Container(ControllerPod);
        Assert.Equal(plugin.Str("image"), controller.Str("image"));
        Assert.Null(plugin.At("command"));
        Assert.Null(controller.At("command"));
        Assert.Equal("kubelet-plugin", plugin.Strings("args")[0]);
        Assert.Equal("controller", controller.Strings("args")[0]);
        Assert.Contains("--kubelet-registrar-directory-path=" + RegistrarDir, plugin.Strings("args"));
        Assert.Contains("--kubelet-plugins-directory-path=/var/lib/kubelet/plugins", plugin.Strings("args"));
        Assert.Contains("--driver-name=gpu.nvidia.com", plugin.Strings("args"));
        Assert.Contains("--cdi-root=" + CdiDir, plugin.Strings("args"));
    }

    [Fact]
    public void Controller_reads_its_tls_key_from_a_read_only_secret_volume_and_has_no_secret_rbac()
    {
        var volume = ControllerPod.Items("volumes").Single(v => v.At("secret") is not null);
        Assert.Equal("securedra-webhook-tls", volume.Str("secret.secretName"));
        Assert.Equal(Convert.ToInt32("440", 8), (int)volume.At("secret.defaultMode")!);
        var mount = Container(ControllerPod).Items("volumeMounts").Single(m => m.Str("name") == volume.Str("name"));
        Assert.True((bool)mount.At("readOnly")!);
        var args = Container(ControllerPod).Strings("args");
        Assert.Contains($"--tls-cert-file={mount.Str("mountPath")}/tls.crt", args);
        Assert.Contains($"--tls-private-key-file={mount.Str("mountPath")}/tls.key", args);
        Assert.Contains("--leader-election=true", args);
        Assert.True((int)Deployment.At("spec.replicas")! >= 2, "the fail-closed webhook needs more than one replica");
        Assert.Equal(1, (int)chart.Single("PodDisruptionBudget").At("spec.minAvailable")!);
    }

    [Fact]
    public void Release_namespace_enforces_what_the_plugin_allows_and_warns_and_audits_restricted()
    {
        var ns = chart.OfKind("Namespace").Single(n => n.Str("metadata.name") == RenderedChart.Namespace);
        var labels = ns.At("metadata.labels")!.AsObject();
        // baseline forbids every hostPath volume, so privileged is the only level the plugin can run under.
        Assert.Equal("privileged", (string?)labels["pod-security.kubernetes.io/enforce"]);
        Assert.Equal("restricted", (string?)labels["pod-security.kubernetes.io/warn"]);
        Assert.Equal("restricted", (string?)labels["pod-security.kubernetes.io/audit"]);
        var tenant = chart.OfKind("Namespace").Single(n => n.Str("metadata.name") == "tenant-a");
        Assert.Equal("restricted", (string?)tenant.At("metadata.labels")!["pod-security.kubernetes.io/enforce"]);
    }

    [Fact]
    public void Controller_pod_would_pass_pod_security_restricted()
    {
        // restricted = baseline + non-root, no escalation, drop ALL, RuntimeDefault, volumes from the allowed list.
        Assert.All(ControllerPod.Items("volumes"), v => Assert.True(v.At("secret") is not null || v.At("emptyDir") is not null));
        Assert.True((bool)ControllerPod.At("securityContext.runAsNonRoot")!);
        Assert.NotEqual(0, (int)ControllerPod.At("securityContext.runAsUser")!);
    }

    [Fact]
    public void Webhook_service_targets_the_controller_webhook_port()
    {
        // By name: the metrics Services sit beside it (OperabilityChartTests checks those).
        var service = chart.Get("Service", "securedra-webhook");
        var webhook = Assert.Single(chart.Single("ValidatingWebhookConfiguration").Items("webhooks"));
        Assert.Equal(service.Str("metadata.name"), webhook.Str("clientConfig.service.name"));
        Assert.Equal(service.Str("metadata.namespace"), webhook.Str("clientConfig.service.namespace"));
        var port = service.Items("spec.ports").Single();
        Assert.Equal((int)port.At("port")!, (int)webhook.At("clientConfig.service.port")!);
        var containerPort = Container(ControllerPod).Items("ports").Single(p => p.Str("name") == port.Str("targetPort"));
        Assert.Contains($"--webhook-listen=0.0.0.0:{(int)containerPort.At("containerPort")!}", Container(ControllerPod).Strings("args"));
        foreach (var (k, v) in service.At("spec.selector")!.AsObject())
        {
            Assert.Equal((string?)v, (string?)Deployment.At("spec.template.metadata.labels")![k]);
        }
    }
}
