using System.Text.Json.Nodes;
using SecureDra.EndToEnd.Tests.Fixture;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.EndToEnd.Tests;

/// <summary>
/// <c>securedra canary</c> against a GPU prepared by the real plugin: the canary finds the device the claim's
/// CDI spec hands the container (by UUID in NVIDIA_VISIBLE_DEVICES, which the canary honours), passes, leaves its marker in the
/// simulated VRAM; after the release the next run passes again, which proves the marker was scrubbed.
/// When the scrub did not happen, the next run finds the marker: exit 1 and a Warning Event on its pod.
/// </summary>
public class CanaryTests
{
    private sealed record CanaryRun(int ExitCode, string Output);

    [Fact]
    public async Task The_canary_passes_on_a_prepared_gpu_and_again_after_release_because_its_marker_was_scrubbed()
    {
        await using var node = await E2eNode.StartAsync();
        await node.CreateDeviceClassAsync("gpu");
        var first = await node.ClaimDeviceAsync("canary-1", "gpu-0");
        await node.PrepareOkAsync(first);
        var uuid = VisibleDevice(node, first);

        var run1 = await RunCanaryAsync(node, uuid, "canary-pod-1");
        Assert.True(run1.ExitCode == 0, $"first run: exit {run1.ExitCode}\n{run1.Output}\n{node.Diagnostics()}");
        Assert.Contains("PASS gpu-0", run1.Output, StringComparison.Ordinal);
        Assert.Contains("\"VramCanaryPassed\"", run1.Output, StringComparison.Ordinal);

        // The marker fills the whole simulated GPU (4 MiB, a pattern without zero bytes).
        var vram = node.VramFile("gpu-0");
        Assert.Equal(new FileInfo(vram).Length, await SimulatedVramFile.CountNonZeroBytesAsync(vram, CancellationToken.None));

        await node.UnprepareOkAsync(first);
        Assert.Equal(0, await SimulatedVramFile.CountNonZeroBytesAsync(vram, CancellationToken.None));

        var second = await node.ClaimDeviceAsync("canary-2", "gpu-0");
        await node.PrepareOkAsync(second);
        Assert.Equal(uuid, VisibleDevice(node, second));
        var run2 = await RunCanaryAsync(node, uuid, "canary-pod-2");
        Assert.True(run2.ExitCode == 0, $"second run: exit {run2.ExitCode}\n{run2.Output}\n{node.Diagnostics()}");

        var events = await CanaryEventsAsync(node);
        Assert.Contains(events, e => e.Str("reason") == "VramCanaryPassed" && e.Str("type") == "Normal" && e.Str("involvedObject.name") == "canary-pod-1"
            && e.Str("involvedObject.kind") == "Pod" && e.Str("involvedObject.uid") == PodUid("canary-pod-1") && e.Str("involvedObject.namespace") == E2eNode.Namespace);
        Assert.Contains(events, e => e.Str("reason") == "VramCanaryPassed" && e.Str("involvedObject.name") == "canary-pod-2");
        await node.UnprepareOkAsync(second);
    }

    [Fact]
    public async Task When_the_release_scrub_fails_the_next_canary_finds_the_marker_and_exits_1()
    {
        await using var node = await E2eNode.StartAsync();
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("canary-1", "gpu-0");
        await node.PrepareOkAsync(claim);
        var uuid = VisibleDevice(node, claim);
        Assert.Equal(0, (await RunCanaryAsync(node, uuid, "canary-pod-1")).ExitCode);

        // A compute process the scrubber will not race: the release scrub is refused, the marker stays and
        // the device leaves the slice. The canary (the process itself) can still read the memory.
        node.SetGpuFaults("gpu-0", new JsonObject { ["runningProcesses"] = new JsonArray(new JsonObject { ["pid"] = 4242, ["usedMemoryBytes"] = 1 << 20 }) });
        await node.UnprepareOkAsync(claim);
        Assert.False((await node.PublishedDevicesAsync()).ContainsKey("gpu-0"), "gpu-0 stays published after a refused scrub");

        var dirty = await RunCanaryAsync(node, uuid, "canary-pod-2");
        Assert.True(dirty.ExitCode == 1, $"exit {dirty.ExitCode}, expected 1\n{dirty.Output}");
        Assert.Contains("FAIL gpu-0", dirty.Output, StringComparison.Ordinal);
        Assert.Contains("\"VramCanaryFailed\"", dirty.Output, StringComparison.Ordinal);
        var failed = Assert.Single(await CanaryEventsAsync(node), e => e.Str("reason") == "VramCanaryFailed");
        Assert.Equal("Warning", failed.Str("type"));
        Assert.Equal("canary-pod-2", failed.Str("involvedObject.name"));
        Assert.Contains("not scrubbed", failed.Str("message"), StringComparison.Ordinal);

        // Once the retry loop verifies a scrub, the GPU is clean again for the canary.
        node.ClearGpuFaults("gpu-0");
        await node.WaitForPublishedAsync(node.AllDevices, "the retry loop scrubbed gpu-0");
        Assert.Equal(0, (await RunCanaryAsync(node, uuid, "canary-pod-3")).ExitCode);
    }

    [Fact]
    public async Task Usage_errors_exit_2_and_name_the_flag()
    {
        await using var node = await E2eNode.StartAsync();
        var badTimeout = await RunCanaryAsync(node, "GPU-none", "p", "--timeout", "2h");
        Assert.Equal(2, badTimeout.ExitCode);
        Assert.Contains("--timeout", badTimeout.Output, StringComparison.Ordinal);
        var badSize = await RunCanaryAsync(node, "GPU-none", "p", "--max-bytes", "lots");
        Assert.Equal(2, badSize.ExitCode);
        Assert.Contains("--max-bytes", badSize.Output, StringComparison.Ordinal);
        var unknownGpu = await RunCanaryAsync(node, "GPU-00000000-0000-0000-0000-000000000000", "p");
        Assert.Equal(2, unknownGpu.ExitCode);
        Assert.Contains("NVIDIA_VISIBLE_DEVICES", unknownGpu.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// The UUID of the GPU the claim's CDI spec hands its container. The spec names it only by its device node
    /// (/dev/nvidiaN) and sets NVIDIA_VISIBLE_DEVICES=void, so in a real container the canary sees exactly that
    /// one GPU; the simulated canary here sees every simulated GPU, so the test names the claimed one by UUID.
    /// </summary>
    private static string VisibleDevice(E2eNode node, LocalCluster.Kubelet.KubeletClaim claim)
    {
        var spec = JsonNode.Parse(File.ReadAllText(node.CdiFile(claim.Uid)))!;
        var edits = spec["devices"]!.AsArray().Single()!["containerEdits"]!;
        Assert.Contains("NVIDIA_VISIBLE_DEVICES=void", edits["env"]!.AsArray().Select(e => e!.GetValue<string>()));
        var gpuNode = edits["deviceNodes"]!.AsArray().Select(n => n!["path"]!.GetValue<string>())
            .Single(path => System.Text.RegularExpressions.Regex.IsMatch(path, "^/dev/nvidia[0-9]+$"));
        return SimulatedDeviceCatalog.Uuid(int.Parse(gpuNode["/dev/nvidia".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task<CanaryRun> RunCanaryAsync(E2eNode node, string visibleDevice, string podName, params string[] extra)
    {
        string[] args =
        [
            "canary", "--gpu-backend", "simulated", "--simulated-gpus", "2", "--simulated-memory", "4Mi", "--simulated-vram-dir", node.VramDir,
            "--timeout", "60s", "--kubeconfig", node.ApiBase.ToString().TrimEnd('/'), .. extra,
        ];
        var environment = new Dictionary<string, string>
        {
            ["NVIDIA_VISIBLE_DEVICES"] = visibleDevice,
            ["POD_NAME"] = podName,
            ["POD_NAMESPACE"] = E2eNode.Namespace,
            ["POD_UID"] = PodUid(podName),
        };
        await using var process = SecuredraProcess.Start("canary", args, environment);
        await process.WaitForExitAsync(TimeSpan.FromSeconds(90));
        return new CanaryRun(process.ExitCode, process.Output);
    }

    /// <summary>A stable UID per pod name, so a test can check the Event names the pod's UID.</summary>
    private static string PodUid(string podName) =>
        new Guid(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(podName)).AsSpan(0, 16)).ToString();

    private static async Task<List<JsonObject>> CanaryEventsAsync(E2eNode node)
    {
        var list = await node.SendAsync(HttpMethod.Get, $"api/v1/namespaces/{E2eNode.Namespace}/events");
        return [.. list["items"]!.AsArray().OfType<JsonObject>().Where(e => e.Str("reason").StartsWith("VramCanary", StringComparison.Ordinal))];
    }
}

internal static class CanaryJson
{
    public static string Str(this JsonNode node, string path)
    {
        JsonNode? at = node;
        foreach (var part in path.Split('.'))
        {
            at = at?[part];
        }

        return at?.GetValue<string>() ?? "";
    }
}
