using Grpc.Core;
using SecureDra.KubeletPlugin.Health;
using SecureDra.Nvml.Backends;
using SecureDra.Protocol.Health.V1Alpha1;
using static SecureDra.KubeletPlugin.Tests.Health.HealthHarness;

namespace SecureDra.KubeletPlugin.Tests.Health;

/// <summary>v1alpha1.DRAResourceHealth/NodeWatchResources through the real DRA socket, opened by the kubelet emulator.</summary>
public sealed class HealthStreamTests
{
    [Fact]
    public async Task GetInfo_advertises_health_and_the_stream_starts_with_every_device_healthy()
    {
        await using var h = await HealthHarness.StartAsync(gpus: 3);
        Assert.Equal(["v1.DRAPlugin", "v1beta1.DRAPlugin", "v1alpha1.DRAResourceHealth"], h.Registered.OfferedServices);

        using var call = h.Registered.WatchHealth();
        var first = await ReadUntilAsync(call, r => r.Devices.Count == 3);
        Assert.Equal(["gpu-0", "gpu-1", "gpu-2"], first.Devices.Select(d => d.Device.DeviceName));
        Assert.All(first.Devices, d =>
        {
            Assert.Equal(HealthStatus.Healthy, d.Health);
            Assert.Equal(Node, d.Device.PoolName);
            Assert.Equal(30, d.HealthCheckTimeoutSeconds);
            Assert.Equal("", d.Message);
            Assert.InRange(d.LastUpdatedTime, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
        });
    }

    [Fact]
    public async Task Fatal_xid_79_makes_the_device_unhealthy_with_its_reason_and_xid_13_changes_nothing()
    {
        await using var h = await HealthHarness.StartAsync();
        using var call = h.Registered.WatchHealth();
        await ReadUntilAsync(call, r => r.Devices.Count == 2);

        // Events are handled in order: once gpu-1's fatal Xid shows, gpu-0's Xid 13 has been handled too.
        h.Inject("gpu-0", GpuHealthEventKind.Xid, 13);
        h.Inject("gpu-1", GpuHealthEventKind.Xid, 79);
        var update = await ReadUntilAsync(call, r => Device(r, "gpu-1").Health == HealthStatus.Unhealthy);
        Assert.Equal("Xid 79: GPU has fallen off the bus", Device(update, "gpu-1").Message);
        Assert.Equal(HealthStatus.Healthy, Device(update, "gpu-0").Health);
        Assert.Equal("", Device(update, "gpu-0").Message);
        Assert.Equal(1, h.MetricValue("securedra_gpu_health_events_total{device=\"gpu-0\",kind=\"Xid\",fatal=\"false\"}"));
    }

    [Fact]
    public async Task Fault_file_xid_reaches_the_stream_like_an_nvml_event()
    {
        await using var h = await HealthHarness.StartAsync();
        using var call = h.Registered.WatchHealth();
        await ReadUntilAsync(call, r => r.Devices.Count == 2);
        SecureDra.Nvml.Backends.Simulated.SimulatedFaultFile.Write(h.VramDirectory, "gpu-0", new SecureDra.Nvml.Backends.Simulated.SimulatedFaults
        {
            HealthEvents = [new SecureDra.Nvml.Backends.Simulated.SimulatedHealthEventSpec("xid", 48)],
        });
        var update = await ReadUntilAsync(call, r => Device(r, "gpu-0").Health == HealthStatus.Unhealthy);
        Assert.Equal("Xid 48: double-bit ECC error", Device(update, "gpu-0").Message);
    }

    [Fact]
    public async Task The_full_list_is_resent_periodically_without_changes()
    {
        await using var h = await HealthHarness.StartAsync(new HealthOptions { ResendInterval = TimeSpan.FromMilliseconds(100) });
        using var call = h.Registered.WatchHealth();
        await ReadUntilAsync(call, r => r.Devices.Count == 2);
        var started = DateTime.UtcNow;
        for (var i = 0; i < 3; i++)
        {
            var again = await ReadUntilAsync(call, _ => true, TimeSpan.FromSeconds(2));
            Assert.Equal(2, again.Devices.Count);
            Assert.All(again.Devices, d => Assert.Equal(HealthStatus.Healthy, d.Health));
        }

        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task A_reconnecting_kubelet_gets_the_full_list_again_with_the_current_health()
    {
        await using var h = await HealthHarness.StartAsync();
        using (var first = h.Registered.WatchHealth())
        {
            await ReadUntilAsync(first, r => r.Devices.Count == 2);
            h.Inject("gpu-0", GpuHealthEventKind.DoubleBitEcc);
            await ReadUntilAsync(first, r => Device(r, "gpu-0").Health == HealthStatus.Unhealthy);
        }

        using var second = h.Registered.WatchHealth();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.True(await second.ResponseStream.MoveNext(cts.Token));
        var list = second.ResponseStream.Current;
        Assert.Equal(2, list.Devices.Count);
        Assert.Equal(HealthStatus.Unhealthy, Device(list, "gpu-0").Health);
        Assert.Equal("double-bit ECC error", Device(list, "gpu-0").Message);
        Assert.Equal(HealthStatus.Healthy, Device(list, "gpu-1").Health);
    }

    [Fact]
    public async Task Twenty_concurrent_streams_each_get_the_full_list_and_free_their_subscriptions()
    {
        await using var h = await HealthHarness.StartAsync();
        var baseline = h.Subscriptions; // the withdrawal service's own subscription
        var calls = Enumerable.Range(0, 20).Select(_ => h.Registered.WatchHealth()).ToList();
        try
        {
            var firsts = await Task.WhenAll(calls.Select(c => ReadUntilAsync(c, r => r.Devices.Count == 2)));
            Assert.All(firsts, f => Assert.Equal(["gpu-0", "gpu-1"], f.Devices.Select(d => d.Device.DeviceName)));
            Assert.Equal(baseline + 20, h.Subscriptions);

            h.Inject("gpu-1", GpuHealthEventKind.GpuLost);
            var updates = await Task.WhenAll(calls.Select(c => ReadUntilAsync(c, r => Device(r, "gpu-1").Health == HealthStatus.Unhealthy)));
            Assert.All(updates, u => Assert.Equal("GPU lost", Device(u, "gpu-1").Message));
        }
        finally
        {
            foreach (var call in calls)
            {
                call.Dispose();
            }
        }

        await Poll.UntilAsync(() => h.Subscriptions == baseline, "every closed stream released its subscription");
        Assert.Equal(1, baseline);
    }

    [Fact]
    public async Task Cancelling_the_call_ends_the_server_loop()
    {
        await using var h = await HealthHarness.StartAsync(new HealthOptions { ResendInterval = TimeSpan.FromSeconds(15) });
        var baseline = h.Subscriptions;
        using var cts = new CancellationTokenSource();
        using var call = h.Registered.WatchHealth(cts.Token);
        await ReadUntilAsync(call, r => r.Devices.Count == 2);
        Assert.Equal(baseline + 1, h.Subscriptions);

        await cts.CancelAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        await Poll.UntilAsync(() => h.Subscriptions == baseline, "the server loop ended and unsubscribed");
    }

    [Fact]
    public async Task Plugin_shutdown_ends_open_streams_promptly()
    {
        var h = await HealthHarness.StartAsync(new HealthOptions { ResendInterval = TimeSpan.FromSeconds(15) });
        try
        {
            using var call = h.Registered.WatchHealth();
            await ReadUntilAsync(call, r => r.Devices.Count == 2);
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            await h.Plugin.StopAsync();
            Assert.InRange(stopping.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
            Assert.Equal(0, h.Subscriptions);
        }
        finally
        {
            await h.DisposeAsync();
        }
    }
}
