using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.KubeletPlugin.Tests.Memory;

/// <summary>
/// <c>--trim-memory-when-idle</c> in the real <c>securedra kubelet-plugin</c> process: after the kubelet's calls
/// (registration's GetInfo and NotifyRegistrationStatus are the first), once idle that long, one collection runs and says
/// so in the log and metrics; with 0 the service does not exist.
/// </summary>
public sealed class IdleMemoryTrimProcessTests
{
    [Theory]
    [InlineData("1s")]
    [InlineData("0")]
    public async Task The_plugin_trims_once_idle_after_calls_unless_switched_off(string idle)
    {
        using var dir = TempDir.Create();
        var options = TestPlugin.DefaultOptions(dir);
        await using var apiServer = await SecureDra.LocalCluster.ApiServer.LocalApiServer.StartAsync(new SecureDra.LocalCluster.ApiServer.LocalApiServerOptions { Listen = "127.0.0.1:0" }, CancellationToken.None);
        await using var emulator = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = options.KubeletRegistrarDirectoryPath });
        emulator.Start();
        var (process, port) = await FreshPort.StartAsync(p => SecuredraProcess.Start(
            "kubelet-plugin",
            ["kubelet-plugin", "--kubelet-registrar-directory-path", options.KubeletRegistrarDirectoryPath, "--kubelet-plugins-directory-path", options.KubeletPluginsDirectoryPath, "--log-format", "json",
             "--kubeconfig", apiServer.BaseAddress.ToString().TrimEnd('/'), "--cdi-root", options.CdiRoot, "--http-endpoint", $"127.0.0.1:{p}",
             "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "1Mi", "--trim-memory-when-idle", idle],
            new Dictionary<string, string> { ["NODE_NAME"] = "node-1" }));
        await using var _ = process;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await Poll.UntilAsync(
            async () =>
            {
                using var response = await http.GetAsync("/readyz");
                return response.IsSuccessStatusCode;
            },
            "plugin ready (registered: the kubelet's calls came)",
            () => process.Stderr);

        if (idle != "0")
        {
            Assert.Contains("securedra_memory_idle_trims_total ", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);
            await Poll.UntilAsync(async () => (await http.GetStringAsync("/metrics")).Contains("securedra_memory_idle_trims_total 1", StringComparison.Ordinal), "idle trim done", () => process.Stderr);
            var line = await process.WaitForLineAsync(l => l.Contains("\"EventId\":{\"Id\":7460,", StringComparison.Ordinal), "the idle trim's log event");
            Assert.Contains("Idle memory trimmed after", line, StringComparison.Ordinal);
        }
        else
        {
            // The service registers its metric families when it is built, before the host starts: absent once ready = not there.
            Assert.DoesNotContain("securedra_memory_idle_trims_total", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);
        }
    }
}
