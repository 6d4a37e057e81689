using System.Diagnostics;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.MigManager;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Proxy;
using SecureDra.KubeletPlugin.Tests.Mig;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Observability.Metrics;
using Wire = SecureDra.Protocol.MigManager.V1;

namespace SecureDra.KubeletPlugin.Tests.MigManager;

/// <summary>
/// The real <c>securedra mig-manager</c> process on the simulated backend, over its real Unix socket: the plugin's
/// pipeline prepares and releases a static MIG instance through it (the scrub runs in the manager's scrub-worker child);
/// a hostile peer (another uid, an oversized request, unknown fields, a field out of range, a flood of connections) is
/// refused with evidence while the legitimate client keeps working; a killed manager withdraws the MIG devices, which
/// return only once it answers again and a scrub through it has verified them.
/// </summary>
public sealed class MigManagerProcessTests : IAsyncLifetime
{
    private const long Memory = 8L * 1024 * 1024;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sdra-mm-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly SimulatedMigBackend _sim;
    private readonly GpuDevice _parent = SimulatedDeviceCatalog.Device(0, Memory);
    private readonly List<SecuredraProcess> _managers = [];
    private readonly List<IDisposable> _disposables = [];
    private readonly MetricsRegistry _pluginMetrics = new();
    private PipelineHarness? _h;

    public MigManagerProcessTests()
    {
        Directory.CreateDirectory(_dir);
        using (var vram = new FileStream(VramPath, FileMode.Create))
        {
            vram.SetLength(Memory);
        }

        SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = true });
        _sim = new SimulatedMigBackend(new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = Memory, VramDirectory = _dir, FaultFiles = true });
    }

    private string SocketPath => Path.Combine(_dir, "mm", "mig-manager.sock");

    private string VramPath => Path.Combine(_dir, "gpu-0.vram");

    private string MinorsPath => Path.Combine(_dir, "mig-minors");

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xUnit v2 never calls IAsyncDisposable on a test class.
    public async Task DisposeAsync()
    {
        try
        {
            if (_h is not null)
            {
                await _h.DisposeAsync();
            }

            foreach (var d in _disposables)
            {
                d.Dispose();
            }
        }
        finally
        {
            // Every manager started, the killed-and-restarted ones included, even when the harness's disposal failed.
            foreach (var m in _managers)
            {
                await m.DisposeAsync();
            }

            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task The_pipeline_prepares_and_releases_a_static_instance_through_the_manager_and_the_release_scrubs_exactly_it()
    {
        var manager = await StartManagerAsync();
        var (x, xName, y, yName, scrubber) = await TwoTenantsAsync();

        var released = (await _h!.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];

        Assert.Null(released.Error);
        Assert.Equal(1, scrubber.Calls);
        AssertBytes(x.Placement, 0x00);
        AssertBytes(y.Placement, 0xB2);
        Assert.True(_h.Inventory.GetPlacement(xName)!.IsOffered);
        Assert.Equal(DeviceState.Prepared, _h.Inventory.GetPlacement(yName)!.State);
        Assert.Contains("securedra_scrubs_total{backend=\"simulated\",target=\"mig_instance\",trigger=\"release\",outcome=\"verified\"} 1", _pluginMetrics.Render(), StringComparison.Ordinal);
        // The scrub ran in the manager (its log names the instance it zeroed), not in this process.
        await manager.WaitForLineAsync(l => l.Contains(x.Uuid!, StringComparison.Ordinal) && l.Contains("6300", StringComparison.Ordinal), "the manager logs the instance scrub");
    }

    [Fact]
    public async Task A_killed_manager_withdraws_the_MIG_devices_and_they_return_only_after_it_answers_again_and_a_scrub_through_it_verifies()
    {
        var manager = await StartManagerAsync();
        var (x, xName, y, yName, scrubber) = await TwoTenantsAsync(loops: true);
        Assert.Null((await _h!.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);
        Assert.True(_h.Inventory.GetPlacement(xName)!.IsOffered);
        var monitor = Monitor();
        await monitor.CheckAsync(CancellationToken.None);
        Assert.True(monitor.Reachable);

        await manager.KillAsync();
        await monitor.CheckAsync(CancellationToken.None);

        Assert.False(monitor.Reachable);
        Assert.Contains(WithdrawalReason.MigManagerUnavailable, _h.Inventory.Get("gpu-0")!.Withdrawals.Keys);
        var placement = _h.Inventory.GetPlacement(xName)!;
        Assert.False(placement.IsOffered);
        Assert.Equal(DeviceState.Dirty, placement.State); // nothing watched it meanwhile: a scrub must verify it again
        Assert.Equal(DeviceState.Prepared, _h.Inventory.GetPlacement(yName)!.State); // tenant B keeps its instance
        Assert.Contains("securedra_mig_manager_up 0", _h.Metrics.Render(), StringComparison.Ordinal);
        Assert.Contains("securedra_mig_manager_unavailable_total 1", _h.Metrics.Render(), StringComparison.Ordinal);
        _h.Api.PutClaim(TestClaims.Allocated(3, xName));
        Assert.NotNull((await _h.Pipeline.PrepareAsync([TestClaims.Ref(3)], CancellationToken.None))[TestClaims.Uid(3)].Error);

        // Meanwhile someone writes into X: whatever happened while the manager was away must not survive its return.
        Fill(x.Placement, 0xEE);
        await Poll.StaysAsync(() => Task.FromResult(!_h.Inventory.GetPlacement(xName)!.IsOffered), "X stays withdrawn while the manager is gone", TimeSpan.FromSeconds(2));

        await StartManagerAsync();
        await Poll.UntilAsync(async () =>
        {
            await monitor.CheckAsync(CancellationToken.None);
            return monitor.Reachable == true;
        }, "the monitor sees the manager again", () => "");
        Assert.DoesNotContain(WithdrawalReason.MigManagerUnavailable, _h.Inventory.Get("gpu-0")!.Withdrawals.Keys);
        await Poll.UntilAsync(() => _h.Inventory.GetPlacement(xName)!.IsOffered, "X is scrubbed through the manager and offered again", TimeSpan.FromSeconds(30));
        AssertBytes(x.Placement, 0x00);
        AssertBytes(y.Placement, 0xB2);
        Assert.True(scrubber.Calls >= 2);
        Assert.Contains("securedra_mig_manager_up 1", _h.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_peer_with_another_uid_is_refused_with_evidence_even_when_the_socket_file_is_left_open_to_everyone()
    {
        var manager = await StartManagerAsync();
        // A misconfigured volume: the socket and its directory readable and writable by anyone.
        File.SetUnixFileMode(Path.GetDirectoryName(SocketPath)!, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(SocketPath, (UnixFileMode)0b110_110_110);

        // uid 65534 connects, sends the HTTP/2 preface and reads: the manager closes the connection unanswered.
        var script = "use Socket; socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die \"socket: $!\"; connect($s, pack_sockaddr_un($ARGV[0])) or die \"connect: $!\";"
            + " syswrite($s, \"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\"); my $n = sysread($s, my $buf, 4096); print defined($n) && $n == 0 ? \"closed\" : \"answered \" . ($n // 'error');";
        var (exit, stdout, stderr) = await RunAsync("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/perl", "-e", script, SocketPath);
        Assert.True(exit == 0, $"perl as uid 65534: exit {exit}: {stderr}");
        Assert.Equal("closed", stdout.Trim());
        await manager.WaitForLineAsync(l => l.Contains("6951", StringComparison.Ordinal) && l.Contains("65534", StringComparison.Ordinal), "the manager logs the refused uid");

        // The manager's own uid is still served.
        using var client = Client();
        await client.CallAsync("Ping", (c, o) => c.PingAsync(new Wire.PingRequest(), o), CancellationToken.None);
    }

    [Fact]
    public async Task A_manager_that_allows_another_uid_refuses_this_one_and_the_client_fails_closed()
    {
        var manager = await StartManagerAsync("--mig-manager-allowed-uid", "65534");
        using var client = Client();
        var backend = new RemoteMigBackend(client);
        var error = await Assert.ThrowsAsync<MigManagerUnavailableException>(() => backend.GetInstancesAsync(_parent, CancellationToken.None));
        Assert.Contains("did not answer GetInstances", error.Message, StringComparison.Ordinal);
        await manager.WaitForLineAsync(l => l.Contains("6951", StringComparison.Ordinal), "the manager logs the refused uid");

        // A flood of refused connections is counted, not logged line by line.
        for (var i = 0; i < 20; i++)
        {
            using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await s.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
            await Poll.UntilAsync(() => Closed(s), "the refused connection is closed", TimeSpan.FromSeconds(10));
        }

        Assert.True(manager.Lines.Count(l => l.Contains("6951", StringComparison.Ordinal)) <= 3, manager.Output);

        // A scrub through such a manager is a failed scrub (slices stay dirty), never a success and never a throw.
        var instance = await InstanceAsync(SimulatedMigProfiles.Profile1g, new MigPlacement(0, 1));
        var result = await new RemoteMigInstanceScrubber(client, new GpuBackendOptions()).ScrubAsync(_parent, instance, SecureDra.Nvml.Scrubbing.ScrubTrigger.Release, CancellationToken.None);
        Assert.False(result.Succeeded);
        Assert.Contains("did not answer ScrubInstance", result.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Oversized_requests_unknown_fields_and_out_of_range_fields_are_refused_and_the_manager_keeps_serving()
    {
        var manager = await StartManagerAsync();
        var instance = await InstanceAsync(SimulatedMigProfiles.Profile1g, new MigPlacement(5, 1));
        using var client = Client();
        var invoker = client.Raw;

        // Over the 4 KiB request limit: refused before it is parsed.
        var huge = new Wire.DeviceRequest { GpuUuid = new string('G', 8000) }.ToByteArray();
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => RawAsync("GetInstances", huge));
        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);

        // A field this version does not know (number 111): refused, not silently ignored.
        var unknown = new Wire.DeviceRequest { GpuUuid = _parent.Uuid }.ToByteArray().Concat(new byte[] { 0xF8, 0x06, 0x01 }).ToArray();
        var refused = await Assert.ThrowsAsync<RpcException>(() => RawAsync("GetInstances", unknown));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("fields this MIG manager does not know", refused.Status.Detail, StringComparison.Ordinal);
        await manager.WaitForLineAsync(l => l.Contains("6953", StringComparison.Ordinal), "the manager logs the refused request");

        // Out of range: named with its limit; a destroy of an instance the caller has no business with never reaches NVML.
        var outOfRange = await Assert.ThrowsAsync<RpcException>(async () =>
            await invoker.DestroyGpuInstanceAsync(new Wire.GpuInstanceRequest { GpuUuid = _parent.Uuid, GpuInstanceId = 9999 }, deadline: DateTime.UtcNow.AddSeconds(10)));
        Assert.Equal(StatusCode.InvalidArgument, outOfRange.StatusCode);
        Assert.Contains("gpu_instance_id: must be from 0 to 64, got 9999", outOfRange.Status.Detail, StringComparison.Ordinal);
        var strange = await Assert.ThrowsAsync<RpcException>(async () =>
            await invoker.GetInstancesAsync(new Wire.DeviceRequest { GpuUuid = "GPU-\n" }, deadline: DateTime.UtcNow.AddSeconds(10)));
        Assert.Equal(StatusCode.InvalidArgument, strange.StatusCode);

        // A scrub of an instance whose UUID is not the one the caller names is refused (re-created behind its back).
        var scrub = await invoker.ScrubInstanceAsync(new Wire.ScrubInstanceRequest { GpuUuid = _parent.Uuid, GpuInstanceId = instance.GpuInstanceId, InstanceUuid = "MIG-00000000-0000-0000-0000-000000000000", Trigger = Wire.ScrubTrigger.Release },
            deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.False(scrub.Succeeded);
        Assert.Contains("not MIG-00000000", scrub.FailureReason, StringComparison.Ordinal);

        // A scrub that does not say why it runs is refused before anything is scrubbed: the trigger labels its evidence.
        var untriggered = await Assert.ThrowsAsync<RpcException>(async () =>
            await invoker.ScrubInstanceAsync(new Wire.ScrubInstanceRequest { GpuUuid = _parent.Uuid, GpuInstanceId = instance.GpuInstanceId, InstanceUuid = instance.Uuid }, deadline: DateTime.UtcNow.AddSeconds(10)));
        Assert.Equal(StatusCode.InvalidArgument, untriggered.StatusCode);
        Assert.Contains("trigger: must be one of release, retry, startup, health, cli, got 0", untriggered.Status.Detail, StringComparison.Ordinal);

        // Still serving, and the MIG error codes cross the socket intact.
        var instances = await new RemoteMigBackend(client).GetInstancesAsync(_parent, CancellationToken.None);
        Assert.Equal(instance.Uuid, Assert.Single(instances).Uuid);
        var overlap = await Assert.ThrowsAsync<MigException>(() => new RemoteMigBackend(client).CreateGpuInstanceAsync(_parent, SimulatedMigProfiles.Profile1g, new MigPlacement(5, 1), CancellationToken.None));
        Assert.True(overlap.Code is MigErrorCode.InsufficientResources or MigErrorCode.NotSupported, overlap.Message);
    }

    [Fact]
    public async Task A_flood_of_idle_connections_is_evicted_and_cannot_lock_the_plugin_out()
    {
        await StartManagerAsync("--mig-manager-max-connections", "4");
        var flood = new List<Socket>();
        try
        {
            for (var i = 0; i < 40; i++)
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                flood.Add(s);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
            }

            using var client = Client();
            var ping = await client.CallAsync("Ping", (c, o) => c.PingAsync(new Wire.PingRequest(), o), CancellationToken.None);
            Assert.Equal(_parent.Uuid, Assert.Single(ping.GpuUuids));

            // The manager closed all but at most its cap of the flood's connections.
            await Poll.UntilAsync(() => flood.Count(Closed) >= 40 - 4, "the flood's connections are closed down to the cap", TimeSpan.FromSeconds(20), () => $"{flood.Count(Closed)} closed");
        }
        finally
        {
            foreach (var s in flood)
            {
                s.Dispose();
            }
        }
    }

    [Fact]
    public async Task The_kubelet_plugin_process_with_the_socket_flag_watches_the_manager_and_says_when_it_goes_and_returns()
    {
        using var dir = TempDir.Create();
        var options = TestPlugin.DefaultOptions(dir);
        await StartManagerAsync();
        await using var apiServer = await SecureDra.LocalCluster.ApiServer.LocalApiServer.StartAsync(new SecureDra.LocalCluster.ApiServer.LocalApiServerOptions { Listen = "127.0.0.1:0" }, CancellationToken.None);
        await using var plugin = SecuredraProcess.Start(
            "kubelet-plugin",
            ["kubelet-plugin", "--kubelet-registrar-directory-path", options.KubeletRegistrarDirectoryPath, "--kubelet-plugins-directory-path", options.KubeletPluginsDirectoryPath, "--log-format", "json",
             "--kubeconfig", apiServer.BaseAddress.ToString().TrimEnd('/'), "--cdi-root", Path.Combine(options.KubeletPluginsDirectoryPath, "cdi"),
             "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "8Mi", "--simulated-vram-dir", _dir,
             "--mig-mode", "static", "--mig-manager-socket", SocketPath],
            new Dictionary<string, string> { ["NODE_NAME"] = "node-1" });

        // The plugin's monitor loses the manager (whether or not its first ping came before the kill).
        await plugin.WaitForLineAsync(l => l.Contains("\"Id\":4300", StringComparison.Ordinal), "the plugin's pipeline is ready", TimeSpan.FromSeconds(60));
        await _managers[^1].KillAsync();
        await plugin.WaitForLineAsync(l => l.Contains("\"Id\":6960", StringComparison.Ordinal) && l.Contains(SocketPath, StringComparison.Ordinal), "the plugin reports the manager unreachable", TimeSpan.FromSeconds(60));

        await StartManagerAsync();
        await plugin.WaitForLineAsync(l => l.Contains("\"Id\":6961", StringComparison.Ordinal), "the plugin sees the manager again", TimeSpan.FromSeconds(60));
        Assert.False(plugin.HasExited, plugin.Output);
    }

    [Fact]
    public async Task Flags_are_checked_with_one_line_and_exit_2()
    {
        var noSocket = await SecuredraProcess.RunAsync("mig-manager", "--gpu-backend", "simulated");
        Assert.Equal(2, noSocket.ExitCode);
        Assert.Contains("--mig-manager-socket: required", noSocket.Stderr, StringComparison.Ordinal);

        var relative = await SecuredraProcess.RunAsync("mig-manager", "--mig-manager-socket", "relative.sock");
        Assert.Equal(2, relative.ExitCode);
        Assert.Contains("--mig-manager-socket: must be an absolute path", relative.Stderr, StringComparison.Ordinal);

        var badUid = await SecuredraProcess.RunAsync("mig-manager", "--mig-manager-socket", SocketPath, "--mig-manager-allowed-uid", "-1");
        Assert.Equal(2, badUid.ExitCode);
        Assert.Contains("--mig-manager-allowed-uid", badUid.Stderr, StringComparison.Ordinal);

        var unwritable = await SecuredraProcess.RunAsync("mig-manager", "--mig-manager-socket", "/proc/securedra-mig/mig-manager.sock", "--gpu-backend", "simulated");
        Assert.Equal(2, unwritable.ExitCode);
        Assert.Contains("--mig-manager-socket:", unwritable.Stderr, StringComparison.Ordinal);
        Assert.False(CliStackTrace(unwritable.Stderr), unwritable.Stderr);

        var pluginWithoutMig = await SecuredraProcess.RunAsync("kubelet-plugin", "--node-name", "n", "--gpu-backend", "simulated", "--mig-manager-socket", SocketPath);
        Assert.Equal(2, pluginWithoutMig.ExitCode);
        Assert.Contains("--mig-manager-socket: needs --mig-mode static or dynamic", pluginWithoutMig.Stderr, StringComparison.Ordinal);
    }

    private static bool CliStackTrace(string text) => text.Contains("   at ", StringComparison.Ordinal) || text.Contains("Unhandled exception", StringComparison.Ordinal);

    private static bool Closed(Socket s)
    {
        try
        {
            return s.Poll(0, SelectMode.SelectRead) && s.Available == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <summary>A call with a hand-made body, on a channel of its own (the generated client only sends well-formed messages).</summary>
    private async Task<byte[]> RawAsync(string method, byte[] body)
    {
        using var channel = VendorChannel.Create(SocketPath, MigManagerOptions.MaxResponseBytes);
        var marshaller = Marshallers.Create(b => b, b => b);
        var call = new Method<byte[], byte[]>(MethodType.Unary, "securedra.migmanager.v1.MigManager", method, marshaller, marshaller);
        return await channel.CreateCallInvoker().AsyncUnaryCall(call, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), body).ResponseAsync;
    }

    private async Task<SecuredraProcess> StartManagerAsync(params string[] extra)
    {
        var manager = SecuredraProcess.Start("mig-manager",
            ["mig-manager", "--mig-manager-socket", SocketPath, "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "8Mi", "--simulated-vram-dir", _dir, "--log-format", "json", .. extra]);
        _managers.Add(manager);
        await manager.WaitForLineAsync(l => l.Contains("6950", StringComparison.Ordinal), "the MIG manager listens", TimeSpan.FromSeconds(60));
        return manager;
    }

    private MigManagerClient Client(MetricsRegistry? metrics = null)
    {
        var client = new MigManagerClient(new MigManagerClientOptions { SocketPath = SocketPath, CallTimeout = TimeSpan.FromSeconds(15), StartupGrace = TimeSpan.Zero },
            metrics ?? new MetricsRegistry(), TimeProvider.System, NullLogger<MigManagerClient>.Instance);
        return client;
    }

    private MigManagerMonitor Monitor()
    {
        var client = Client(_h!.Metrics);
        _disposables.Add(client);
        return new MigManagerMonitor(client, _h.Inventory, _h.Journal, _h.Options, _h.Metrics, TimeProvider.System, NullLogger<MigManagerMonitor>.Instance);
    }

    /// <summary>Tenant A on X (2g at slices 2-3), tenant B on Y (1g at slice 4), both prepared through the pipeline with the manager as its MIG backend.</summary>
    private async Task<(MigInstance X, string XName, MigInstance Y, string YName, SimulatedParentScrubber Scrubber)> TwoTenantsAsync(bool loops = false)
    {
        var x = await InstanceAsync(SimulatedMigProfiles.Profile2g, new MigPlacement(2, 2));
        var y = await InstanceAsync(SimulatedMigProfiles.Profile1g, new MigPlacement(4, 1));
        await File.WriteAllTextAsync(MinorsPath,
            $"config 1\nmonitor 2\ngpu0/gi{x.GpuInstanceId}/access 12\ngpu0/gi{x.GpuInstanceId}/ci0/access 13\ngpu0/gi{y.GpuInstanceId}/access 21\ngpu0/gi{y.GpuInstanceId}/ci0/access 22\n");

        var client = Client();
        _disposables.Add(client);
        var scrubber = new SimulatedParentScrubber(new RemoteMigInstanceScrubber(client, new GpuBackendOptions { Kind = GpuBackendKind.Simulated }, new SecureDra.Nvml.Scrubbing.ScrubMetrics(_pluginMetrics)), Memory);
        _h = PipelineHarness.Create(1, new ClaimPipelineOptions
        {
            MigMode = MigMode.Static,
            MigMinorsPath = MinorsPath,
            ScrubRetryInitial = TimeSpan.FromMilliseconds(200),
            ScrubRetryMax = TimeSpan.FromSeconds(1),
        }, mig: new SimulatedParentMig(new RemoteMigBackend(client), Memory), migScrubber: scrubber);
        _h.Backend.MigMode["gpu-0"] = true;
        await _h.StartAsync(loops);

        var names = _h.Inventory.Snapshot().Partitions.Single().Placements.Select(p => p.Name).ToList();
        var xName = names.Single(n => n.EndsWith($"-{SimulatedMigProfiles.Profile2g}-2", StringComparison.Ordinal));
        var yName = names.Single(n => n.EndsWith($"-{SimulatedMigProfiles.Profile1g}-4", StringComparison.Ordinal));
        _h.Api.PutClaim(TestClaims.Allocated(1, xName));
        _h.Api.PutClaim(TestClaims.Allocated(2, yName));
        var prepared = await _h.Pipeline.PrepareAsync([TestClaims.Ref(1), TestClaims.Ref(2)], CancellationToken.None);
        Assert.Null(prepared[TestClaims.Uid(1)].Error);
        Assert.Null(prepared[TestClaims.Uid(2)].Error);
        Fill(x.Placement, 0xA1);
        Fill(y.Placement, 0xB2);
        return (x, xName, y, yName, scrubber);
    }

    private async Task<MigInstance> InstanceAsync(int profileId, MigPlacement placement)
    {
        var gi = await _sim.CreateGpuInstanceAsync(_parent, profileId, placement, CancellationToken.None);
        return await _sim.CreateComputeInstanceAsync(_parent, gi.GpuInstanceId, CancellationToken.None);
    }

    private void Fill(MigPlacement placement, byte value) => MigVram.Fill(_sim, VramPath, placement, value);

    private void AssertBytes(MigPlacement placement, byte value) => MigVram.AssertBytes(_sim, VramPath, placement, value);

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
