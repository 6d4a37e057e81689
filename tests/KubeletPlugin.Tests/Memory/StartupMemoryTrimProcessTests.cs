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
        await using var plugin = await ReadyPluginProcess.StartAsync(flag is null ? [] : ["--trim-memory-after-start", flag], "plugin ready");
        var (process, http) = (plugin.Process, plugin.Http);

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
