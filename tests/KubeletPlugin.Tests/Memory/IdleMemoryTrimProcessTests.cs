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
        await using var plugin = await ReadyPluginProcess.StartAsync(["--trim-memory-when-idle", idle], "plugin ready (registered: the kubelet's calls came)");
        var (process, http) = (plugin.Process, plugin.Http);

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
