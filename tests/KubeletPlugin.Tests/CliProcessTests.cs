using SecureDra.KubeletPlugin.Hosting;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.KubeletPlugin.Tests;

/// <summary>The real <c>securedra</c> executable, run through the test kit.</summary>
public class CliProcessTests
{
    private static async Task<(int ExitCode, string Stderr)> RunToEndAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
    {
        var result = await SecuredraProcess.RunAsync(args, env, TimeSpan.FromSeconds(30));
        return (result.ExitCode, result.Stderr);
    }

    [Theory]
    [InlineData("kubelet-plugin --node-name n1 --driver-name Bad_Name", "--driver-name: \"Bad_Name\" is not a valid DNS-1123 subdomain")]
    [InlineData("kubelet-plugin", "--node-name: required")]
    [InlineData("kubelet-plugin --node-name n1 --log-format xml", "--log-format: \"xml\" is not one of json, text")]
    [InlineData("kubelet-plugin --node-name n1 --http-endpoint localhost", "--http-endpoint:")]
    [InlineData("kubelet-plugin --node-name n1 --pod-uid ../x", "--pod-uid:")]
    [InlineData("kubelet-plugin --node-name n1 --no-such-flag", "no-such-flag")]
    [InlineData("kubelet-plugin --node-name n1 --health-resend-interval 0s", "--health-resend-interval:")]
    [InlineData("kubelet-plugin --node-name n1 --health-resend-interval 20s", "--health-resend-interval:")]
    [InlineData("kubelet-plugin --node-name n1 --health-recovery-initial soon", "--health-recovery-initial:")]
    [InlineData("kubelet-plugin --node-name n1 --fatal-xids 79,abc", "--fatal-xids: \"abc\"")]
    [InlineData("kubelet-plugin --node-name n1 --mig-mode partitioned", "--mig-mode: must be off, static or dynamic, got \"partitioned\"")]
    [InlineData("kubelet-plugin --node-name n1 --node-hardening-recheck-interval 0s", "--node-hardening-recheck-interval:")]
    [InlineData("kubelet-plugin --node-name n1 --node-toolkit-config etc/config.toml", "--node-toolkit-config: must be an absolute path")]
    [InlineData("kubelet-plugin --node-name n1 --node-containerd-config containerd.toml", "--node-containerd-config: must be an absolute path")]
    [InlineData("kubelet-plugin --node-name n1 --require-node-hardening=maybe", "Unrecognized command or argument 'maybe'")]
    [InlineData("kubelet-plugin --node-name n1 --trim-memory-after-start maybe", "--trim-memory-after-start: 'maybe' is not true or false")]
    [InlineData("kubelet-plugin --node-name n1 --trim-memory-when-idle 500ms", "--trim-memory-when-idle: 500ms is outside 00:00:01 to 01:00:00")]
    [InlineData("kubelet-plugin --node-name n1 --trim-memory-when-idle 2h", "--trim-memory-when-idle: 2h is outside")]
    [InlineData("kubelet-plugin --node-name n1 --trim-memory-when-idle -1s", "--trim-memory-when-idle:")]
    [InlineData("kubelet-plugin --node-name n1 --trim-memory-when-idle soon", "--trim-memory-when-idle: 'soon' is not a duration")]
    public async Task Bad_flags_give_one_line_and_exit_code_2(string commandLine, string expected)
    {
        var (exitCode, stderr) = await RunToEndAsync(commandLine.Split(' '));
        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.StartsWith("securedra", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Env_vars_are_read_and_checked_too()
    {
        var (exitCode, stderr) = await RunToEndAsync(["kubelet-plugin"], new Dictionary<string, string> { ["NODE_NAME"] = "n1", ["LOG_FORMAT"] = "yaml" });
        Assert.Equal(2, exitCode);
        Assert.Contains("--log-format: \"yaml\"", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_removes_both_sockets_so_the_kubelet_deregisters()
    {
        using var dir = TempDir.Create();
        var options = TestPlugin.DefaultOptions(dir);
        var layout = PluginSocketLayout.Resolve(options);
        await using var apiServer = await SecureDra.LocalCluster.ApiServer.LocalApiServer.StartAsync(new SecureDra.LocalCluster.ApiServer.LocalApiServerOptions { Listen = "127.0.0.1:0" }, CancellationToken.None);
        await using var process = SecuredraProcess.Start(
            "kubelet-plugin",
            ["kubelet-plugin", "--kubelet-registrar-directory-path", options.KubeletRegistrarDirectoryPath, "--kubelet-plugins-directory-path", options.KubeletPluginsDirectoryPath, "--log-format", "json",
             "--kubeconfig", apiServer.BaseAddress.ToString().TrimEnd('/'), "--cdi-root", Path.Combine(options.KubeletPluginsDirectoryPath, "cdi"),
             "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "1Mi"],
            new Dictionary<string, string> { ["NODE_NAME"] = "node-1" });
        await using var emulator = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = options.KubeletRegistrarDirectoryPath });
        emulator.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var plugin = await emulator.WaitForPluginAsync("gpu.nvidia.com", timeout.Token);
        Assert.Equal(layout.DraSocketPath, plugin.Endpoint);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(layout.DraSocketPath));

        var exitCode = await process.StopAsync(timeout.Token);
        Assert.False(File.Exists(layout.RegistrationSocketPath), "registration socket left behind");
        Assert.False(File.Exists(layout.DraSocketPath), "DRA socket left behind");
        Assert.Equal(0, exitCode);
        Assert.Contains("\"EventId\"", process.Stderr, StringComparison.Ordinal);
    }
}
