using SecureDra.KubeletPlugin.Hosting;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.KubeletPlugin.Tests.Memory;

/// <summary>
/// <c>--trim-memory-after-start</c> in the real <c>securedra kubelet-plugin</c> process: on by default, the trim
/// runs once the plugin is ready and says so in its log and metrics; off, the service does not exist.
/// </summary>
public sealed class StartupMemoryTrimProcessTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("false")]
    public async Task The_plugin_trims_once_ready_unless_switched_off(string? flag)
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
             "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "1Mi", .. flag is null ? Array.Empty<string>() : ["--trim-memory-after-start", flag]],
            new Dictionary<string, string> { ["NODE_NAME"] = "node-1" }));
        await using var _ = process;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await Poll.UntilAsync(
            async () =>
            {
                using var response = await http.GetAsync("/readyz");
                return response.IsSuccessStatusCode;
            },
            "plugin ready",
            () => process.Stderr);

        if (flag is null)
        {
            await Poll.UntilAsync(async () => (await http.GetStringAsync("/metrics")).Contains("securedra_memory_trims_total{result=\"done\"} 1", StringComparison.Ordinal), "trim done", () => process.Stderr);
            var line = await process.WaitForLineAsync(l => l.Contains("\"EventId\":{\"Id\":7300,", StringComparison.Ordinal), "the trim's log event");
            Assert.Contains("Start-up memory trimmed once ready", line, StringComparison.Ordinal);
            Assert.DoesNotContain("\"EventId\":{\"Id\":7301,", process.Stderr, StringComparison.Ordinal);
        }
        else
        {
            // The service registers its metric families when it is built, before the host starts: absent once ready = not there.
            Assert.DoesNotContain("securedra_memory_trims_total", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);
        }
    }
}
