using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using SecureDra.EndToEnd.Tests.Fixture;

namespace SecureDra.EndToEnd.Tests;

/// <summary>
/// Paths around DRA, end to end: the real plugin binary on simulated GPUs, node files in a temp
/// tree. With <c>--require-node-hardening</c> and a toolkit config that accepts
/// NVIDIA_VISIBLE_DEVICES from unprivileged containers, the node's GPUs are not published and the
/// plugin says why (/readyz detail, metric, Node Event); once the file is fixed they are published, and a
/// path that opens later (the NVIDIA device plugin appears) withdraws them again.
/// </summary>
public sealed class NodeHardeningTests : IDisposable
{
    private readonly string _host = Path.Combine(Path.GetTempPath(), "sdh-" + Guid.NewGuid().ToString("N")[..10]);

    public NodeHardeningTests() => Directory.CreateDirectory(_host);

    public void Dispose() => Directory.Delete(_host, recursive: true);

    private string HostPath(string relative) => Path.Combine(_host, relative);

    private void Write(string relative, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(HostPath(relative))!);
        File.WriteAllText(HostPath(relative), content);
    }

    private const string ToolkitConfig = "usr/local/nvidia/toolkit/.config/nvidia-container-runtime/config.toml";

    [Fact]
    public async Task With_require_node_hardening_an_accepting_toolkit_config_keeps_gpus_unpublished_until_the_file_is_fixed()
    {
        // A GPU Operator node as installed: the accept key explicitly true.
        Write(ToolkitConfig, "accept-nvidia-visible-devices-envvar-when-unprivileged = true\n[nvidia-container-runtime.modes.cdi]\nspec-dirs = [\"/etc/cdi\"]\n");
        Write("var/lib/dpkg/status", "Package: nvidia-container-toolkit\nStatus: install ok installed\nVersion: 1.17.8-1\n");
        var socket = HostPath("var/lib/kubelet/device-plugins/nvidia-gpu.sock");
        await using var node = await E2eNode.StartAsync(new NodeOptions
        {
            ExtraPluginArgs =
            [
                "--require-node-hardening", "--node-hardening-recheck-interval", "1s",
                "--node-toolkit-config", $"{HostPath(ToolkitConfig)},{HostPath("etc/nvidia-container-runtime/config.toml")}",
                "--node-containerd-config", HostPath("etc/containerd/config.toml"),
                "--node-containerd-dropin-dir", HostPath("etc/containerd/conf.d"),
                "--node-crio-dropin-dir", HostPath("etc/crio/crio.conf.d"),
                "--node-device-plugin-socket", socket,
                "--node-toolkit-version-file", HostPath("var/lib/dpkg/status"),
            ],
        });

        // The pool is published, empty, and the plugin says why.
        await Poll.UntilAsync(async () => (await node.SlicesAsync())["items"]!.AsArray().Count > 0, "the plugin publishes its (empty) pool", node.Diagnostics);
        await Poll.StaysAsync(async () => (await node.PublishedDevicesAsync()).Count == 0, "no GPU is published while the toolkit accepts NVIDIA_VISIBLE_DEVICES", TimeSpan.FromSeconds(2), node.Diagnostics);
        // /readyz stays 200 (a never-ready pod would stall a rolling update on the old version) and says why.
        var (status, body) = await node.ReadyzAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        var detail = JsonNode.Parse(body)!["checks"]!["node-hardening"]!["detail"]!.GetValue<string>();
        Assert.Contains("devices withheld (--require-node-hardening)", detail, StringComparison.Ordinal);
        Assert.Contains($"open: toolkit-envvar-accepted [B1] {HostPath(ToolkitConfig)}", detail, StringComparison.Ordinal);
        var metrics = await node.MetricsAsync();
        Assert.Contains("securedra_node_hardening_devices_withheld 1", metrics, StringComparison.Ordinal);
        Assert.Contains("securedra_node_hardening_findings{id=\"toolkit-envvar-accepted\",path=\"B1\",state=\"open\"} 1", metrics, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => (await NodeEventReasonsAsync(node)).Contains("DevicesWithheld"), "a DevicesWithheld Node Event", node.Diagnostics);
        Assert.Contains("NodeHardeningOpenPath", await NodeEventReasonsAsync(node));

        // The operator sets the key to false: the next re-check publishes every GPU.
        Write(ToolkitConfig, "accept-nvidia-visible-devices-envvar-when-unprivileged = false\n[nvidia-container-runtime.modes.cdi]\nspec-dirs = [\"/etc/cdi\"]\n");
        await node.WaitForPublishedAsync(node.AllDevices, "the toolkit config is fixed");
        await Poll.UntilAsync(async () => (await node.ReadyzAsync()).Body.Contains("no open path around DRA", StringComparison.Ordinal), "/readyz reports the node closed", node.Diagnostics);
        Assert.Contains("DevicesPublished", await NodeEventReasonsAsync(node));
        Assert.Contains("securedra_node_hardening_devices_withheld 0", await node.MetricsAsync(), StringComparison.Ordinal);

        // The GPUs serve claims as usual. --cdi-root is the spec directory: the toolkit's spec-dirs
        // (/etc/cdi here) do not include it, so the check reports no CDI-name path, and the claim's
        // spec lands there.
        Assert.DoesNotContain("toolkit-reads-cdi-root", JsonNode.Parse((await node.ReadyzAsync()).Body)!["checks"]!["node-hardening"]!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("after-fix", "gpu-0");
        await node.PrepareOkAsync(claim);
        Assert.True(File.Exists(node.CdiFile(claim.Uid)), $"the claim's CDI spec is not in --cdi-root {node.CdiDir}");
        await node.UnprepareOkAsync(claim);

        // The NVIDIA device plugin registers on the node (a real socket appears): the GPUs are withdrawn.
        Directory.CreateDirectory(Path.GetDirectoryName(socket)!);
        using (var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            listener.Bind(new UnixDomainSocketEndPoint(socket));
            listener.Listen();
            await Poll.UntilAsync(async () => (await node.PublishedDevicesAsync()).Count == 0, "the GPUs are withdrawn while the device plugin runs", node.Diagnostics);
            Assert.Contains("open: nvidia-device-plugin-running [B4]", JsonNode.Parse((await node.ReadyzAsync()).Body)!["checks"]!["node-hardening"]!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        File.Delete(socket);
        await node.WaitForPublishedAsync(node.AllDevices, "the device plugin is gone");
    }

    private static async Task<HashSet<string>> NodeEventReasonsAsync(E2eNode node)
    {
        var list = await node.SendAsync(HttpMethod.Get, "api/v1/namespaces/default/events");
        return [.. list["items"]!.AsArray().Where(e => e!["involvedObject"]!["kind"]!.GetValue<string>() == "Node").Select(e => e!["reason"]!.GetValue<string>())];
    }
}
