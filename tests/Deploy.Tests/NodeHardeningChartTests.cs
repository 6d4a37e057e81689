using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>kubeletPlugin.nodeHardening: every value reaches the plugin's flags and read-only mounts, and the schema refuses bad ones.</summary>
[Collection(ChartCollection.Name)]
public sealed class NodeHardeningChartTests(RenderedChart chart)
{
    private static IReadOnlyList<string> Args(System.Text.Json.Nodes.JsonObject ds) =>
        ds.Items("spec.template.spec.containers").Single().Strings("args");

    [Fact]
    public void Defaults_require_hardening_and_pass_every_node_file_path()
    {
        var args = Args(chart.Single("DaemonSet"));
        Assert.Contains("--require-node-hardening=true", args);
        Assert.Contains("--node-hardening-recheck-interval=60s", args);
        Assert.Contains("--node-toolkit-config=/usr/local/nvidia/toolkit/.config/nvidia-container-runtime/config.toml,/etc/nvidia-container-runtime/config.toml", args);
        Assert.Contains("--node-containerd-config=/etc/containerd/config.toml", args);
        Assert.Contains("--node-containerd-dropin-dir=/etc/containerd/conf.d", args);
        Assert.Contains("--node-crio-dropin-dir=/etc/crio/crio.conf.d", args);
        Assert.Contains("--node-device-plugin-socket=/var/lib/kubelet/device-plugins/nvidia-gpu.sock", args);
        Assert.Contains("--node-toolkit-version-file=/var/lib/dpkg/status", args);
    }

    [Fact]
    public void Custom_values_change_the_flags_the_mounts_and_the_pod_hardening_allow_list()
    {
        var yaml = RenderedChart.Render(RenderedChart.Namespace,
            "--set", "kubeletPlugin.nodeHardening.require=false",
            "--set", "kubeletPlugin.nodeHardening.recheckInterval=5m",
            "--set", "kubeletPlugin.nodeHardening.toolkitConfigDirs={/opt/nvidia/toolkit}",
            "--set", "kubeletPlugin.nodeHardening.containerdConfigDir=/var/lib/rancher/rke2/agent/etc/containerd",
            "--set", "kubeletPlugin.nodeHardening.crioDropInDir=/etc/crio/conf.d",
            "--set", "kubeletPlugin.nodeHardening.devicePluginDir=/var/lib/k0s/kubelet/device-plugins",
            "--set", "kubeletPlugin.nodeHardening.dpkgDir=/host/dpkg");
        var objects = RenderedChart.Parse(chart.TempFile("node-hardening-custom.yaml", yaml));
        var ds = objects.Single(o => o.Str("kind") == "DaemonSet");
        var args = Args(ds);
        Assert.Contains("--require-node-hardening=false", args);
        Assert.Contains("--node-hardening-recheck-interval=5m", args);
        Assert.Contains("--node-toolkit-config=/opt/nvidia/toolkit/config.toml", args);
        Assert.Contains("--node-containerd-config=/var/lib/rancher/rke2/agent/etc/containerd/config.toml", args);
        Assert.Contains("--node-crio-dropin-dir=/etc/crio/conf.d", args);
        Assert.Contains("--node-device-plugin-socket=/var/lib/k0s/kubelet/device-plugins/nvidia-gpu.sock", args);
        Assert.Contains("--node-toolkit-version-file=/host/dpkg/status", args);

        string[] dirs = ["/opt/nvidia/toolkit", "/var/lib/rancher/rke2/agent/etc/containerd", "/etc/crio/conf.d", "/var/lib/k0s/kubelet/device-plugins", "/host/dpkg"];
        var volumes = ds.Items("spec.template.spec.volumes").Where(v => v.Str("name").StartsWith("node-files-", StringComparison.Ordinal)).ToList();
        Assert.Equal(dirs, volumes.Select(v => v.Str("hostPath.path")));
        var mounts = ds.Items("spec.template.spec.containers").Single().Items("volumeMounts").Where(m => m.Str("name").StartsWith("node-files-", StringComparison.Ordinal)).ToList();
        Assert.Equal(dirs, mounts.Select(m => m.Str("mountPath")));
        Assert.All(mounts, m => Assert.True((bool)m.At("readOnly")!));

        var hardening = objects.Single(o => o.Str("kind") == "ValidatingAdmissionPolicy" && o.Str("metadata.name") == "securedra-pod-hardening");
        var readOnly = hardening.Items("spec.variables").Single(v => v.Str("name") == "readOnlyHostPaths").Str("expression");
        Assert.Equal($"['{string.Join("', '", dirs)}']", readOnly);
    }

    [Theory]
    [InlineData("kubeletPlugin.nodeHardening.recheckInterval=0s", "/kubeletPlugin/nodeHardening/recheckInterval")]
    [InlineData("kubeletPlugin.nodeHardening.recheckInterval=1d", "/kubeletPlugin/nodeHardening/recheckInterval")]
    [InlineData("kubeletPlugin.nodeHardening.containerdConfigDir=etc/containerd", "/kubeletPlugin/nodeHardening/containerdConfigDir")]
    [InlineData("kubeletPlugin.nodeHardening.toolkitConfigDirs=null", "/kubeletPlugin/nodeHardening")]
    [InlineData("kubeletPlugin.nodeHardening.require=yes", "/kubeletPlugin/nodeHardening/require")]
    [InlineData("kubeletPlugin.nodeHardening.skip=true", "additional properties")]
    public void Values_schema_rejects_bad_node_hardening_settings(string set, string expectedError)
    {
        var r = Tool.Run(RepoPaths.Helm, ["template", "securedra", RepoPaths.Chart, "--namespace", RenderedChart.Namespace, "--set", set]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(expectedError, r.StdErr, StringComparison.Ordinal);
    }
}
