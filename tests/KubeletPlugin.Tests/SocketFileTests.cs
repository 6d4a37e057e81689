using System.Net.Sockets;
using Grpc.Core;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Protocol.Registration;

namespace SecureDra.KubeletPlugin.Tests;

public class SocketFileTests
{
    [Fact]
    public async Task Stale_regular_files_at_both_socket_paths_are_replaced()
    {
        using var dir = TempDir.Create();
        var layout = PluginSocketLayout.Resolve(TestPlugin.DefaultOptions(dir));
        Directory.CreateDirectory(Path.GetDirectoryName(layout.RegistrationSocketPath)!);
        Directory.CreateDirectory(layout.PluginDataDirectory);
        await File.WriteAllTextAsync(layout.RegistrationSocketPath, "left over");
        await File.WriteAllTextAsync(layout.DraSocketPath, "left over");

        await using var plugin = await TestPlugin.StartAsync(dir: dir);
        await AssertAnswersAsync(plugin);
    }

    [Fact]
    public async Task Dead_sockets_left_by_a_killed_process_are_replaced()
    {
        using var dir = TempDir.Create();
        var layout = PluginSocketLayout.Resolve(TestPlugin.DefaultOptions(dir));
        Directory.CreateDirectory(Path.GetDirectoryName(layout.RegistrationSocketPath)!);
        Directory.CreateDirectory(layout.PluginDataDirectory);
        foreach (var path in new[] { layout.RegistrationSocketPath, layout.DraSocketPath })
        {
            // Bind, listen and exit without unlinking: what a SIGKILLed server leaves behind (.NET unlinks on dispose, so use python).
            using var python = System.Diagnostics.Process.Start("/usr/bin/python3", ["-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)", path])!;
            await python.WaitForExitAsync();
            Assert.Equal(0, python.ExitCode);
        }

        Assert.True(File.Exists(layout.DraSocketPath));
        await using var plugin = await TestPlugin.StartAsync(dir: dir);
        await AssertAnswersAsync(plugin);
    }

    [Fact]
    public async Task A_live_socket_of_another_instance_is_not_stolen()
    {
        await using var first = await TestPlugin.StartAsync();
        var ex = await Assert.ThrowsAsync<KubeletPluginConfigurationException>(() => TestPlugin.StartAsync(dir: first.Dir));
        Assert.Contains("in use", ex.Message, StringComparison.Ordinal);
        await AssertAnswersAsync(first);
    }

    [Fact]
    public async Task Sockets_are_0600_and_the_plugin_dir_0750()
    {
        using var dir = TempDir.Create();
        var options = TestPlugin.DefaultOptions(dir);
        Directory.CreateDirectory(options.PluginDataDirectory);
        File.SetUnixFileMode(options.PluginDataDirectory, (UnixFileMode)0b111_111_111); // a loose leftover gets tightened
        await using var plugin = await TestPlugin.StartAsync(dir: dir);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(plugin.Layout.DraSocketPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(plugin.Layout.RegistrationSocketPath));
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
            File.GetUnixFileMode(plugin.Layout.PluginDataDirectory));
    }

    [Fact]
    public async Task Stopping_the_host_removes_both_sockets()
    {
        await using var plugin = await TestPlugin.StartAsync();
        Assert.True(File.Exists(plugin.Layout.RegistrationSocketPath));
        await plugin.StopAsync();
        Assert.False(File.Exists(plugin.Layout.RegistrationSocketPath));
        Assert.False(File.Exists(plugin.Layout.DraSocketPath));
    }

    [Fact]
    public async Task Pod_uid_gives_rolling_update_names_and_two_instances_run_side_by_side()
    {
        using var dir = TempDir.Create();
        const string uidA = "0b9d6f3e-7c1a-4e55-8d2b-1f6a9c3e5d70";
        const string uidB = "5e2a8c41-9b3d-4f7e-a6c0-2d8b1e4f9a33";
        await using var a = await TestPlugin.StartAsync(o => o with { PodUid = uidA }, dir: dir);
        await using var b = await TestPlugin.StartAsync(o => o with { PodUid = uidB }, dir: dir);
        Assert.Equal(Path.Combine(dir.Path, "reg", $"gpu.nvidia.com-{uidA}-reg.sock"), a.Layout.RegistrationSocketPath);
        Assert.Equal(Path.Combine(dir.Path, "plugins", "gpu.nvidia.com", $"dra-{uidA}.sock"), a.Layout.DraSocketPath);
        Assert.Equal(Path.Combine(dir.Path, "reg", $"gpu.nvidia.com-{uidB}-reg.sock"), b.Layout.RegistrationSocketPath);
        await AssertAnswersAsync(a);
        await AssertAnswersAsync(b);
        using var channel = b.RegistrationChannel();
        var info = await new SecureDra.Protocol.Registration.Registration.RegistrationClient(channel).GetInfoAsync(new InfoRequest());
        Assert.Equal(b.Layout.DraSocketPath, info.Endpoint);
    }

    [Fact]
    public async Task Long_directories_fall_back_to_hashed_names_that_fit_and_bind()
    {
        using var dir = TempDir.Create();
        var deep = Path.Combine(dir.Path, new string('d', 30));
        const string podUid = "0b9d6f3e-7c1a-4e55-8d2b-1f6a9c3e5d70";
        await using var plugin = await TestPlugin.StartAsync(
            o => o with
            {
                PodUid = podUid,
                KubeletRegistrarDirectoryPath = Path.Combine(deep, "reg"),
                KubeletPluginsDirectoryPath = Path.Combine(deep, "plugins"),
            },
            dir: dir);
        Assert.True(PluginSocketLayout.Fits(plugin.Layout.RegistrationSocketPath));
        Assert.True(PluginSocketLayout.Fits(plugin.Layout.DraSocketPath));
        Assert.DoesNotContain(podUid, plugin.Layout.RegistrationSocketPath, StringComparison.Ordinal);
        await AssertAnswersAsync(plugin);
    }


    internal static async Task AssertAnswersAsync(TestPlugin plugin)
    {
        using var reg = plugin.RegistrationChannel();
        var info = await new SecureDra.Protocol.Registration.Registration.RegistrationClient(reg).GetInfoAsync(new InfoRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
        Assert.Equal("DRAPlugin", info.Type);
        using var dra = plugin.DraChannel();
        var response = await new SecureDra.Protocol.Dra.V1.DRAPlugin.DRAPluginClient(dra)
            .NodePrepareResourcesAsync(new SecureDra.Protocol.Dra.V1.NodePrepareResourcesRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
        Assert.Empty(response.Claims);
    }
}
