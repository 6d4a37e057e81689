using SecureDra.EndToEnd.Tests.Fixture;

namespace SecureDra.EndToEnd.Tests;

/// <summary>A damaged checkpoint fails closed: the plugin never serves claims from state it cannot trust.</summary>
public class CheckpointTests
{
    [Fact]
    public async Task A_corrupt_checkpoint_stops_the_plugin_with_a_message_naming_the_file()
    {
        await using var node = await E2eNode.StartAsync();
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("held", "gpu-0");
        await node.PrepareOkAsync(claim);
        await node.KillPluginAsync();

        var bytes = await File.ReadAllBytesAsync(node.CheckpointPath);
        bytes[^3] ^= 0x20;
        await File.WriteAllBytesAsync(node.CheckpointPath, bytes);

        await using var plugin = SecuredraProcess.Start("kubelet-plugin", node.PluginArgs());
        await plugin.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, plugin.ExitCode);
        Assert.Contains(node.CheckpointPath, plugin.Output, StringComparison.Ordinal);

        // Never wiped: the operator decides.
        Assert.Equal(bytes, await File.ReadAllBytesAsync(node.CheckpointPath));
    }

    [Theory]
    [InlineData("--scrub-retry-initial", "2h", "is outside")]
    [InlineData("--unprepare-budget", "41s", "is outside")]
    [InlineData("--kube-request-timeout", "soon", "is not a duration")]
    [InlineData("--scrub-retry-initial", "0s", "is outside")]
    [InlineData("--unprepare-budget", "0", "is outside")]
    [InlineData("--kube-request-timeout", "0ms", "is outside")]
    [InlineData("--kube-request-timeout", "6m", "is outside")]
    public async Task Timing_flags_are_range_checked_naming_the_flag(string flag, string value, string expected)
    {
        await using var plugin = SecuredraProcess.Start("kubelet-plugin", ["kubelet-plugin", "--node-name", "n1", "--gpu-backend", "simulated", "--kubeconfig", "http://127.0.0.1:9", flag, value]);
        await plugin.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, plugin.ExitCode);
        Assert.Contains($"{flag}: ", plugin.Output, StringComparison.Ordinal);
        Assert.Contains(expected, plugin.Output, StringComparison.Ordinal);
    }
}
