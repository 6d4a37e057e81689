using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Health;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Protocol.Health.V1Alpha1;
using static SecureDra.KubeletPlugin.Tests.Health.HealthHarness;

namespace SecureDra.KubeletPlugin.Tests.Health;

/// <summary>Unhealthy devices leave the ResourceSlices on the local API server and come back when the condition clears.</summary>
public sealed class HealthWithdrawalTests
{
    [Fact]
    public async Task Xid_79_withdraws_the_device_and_a_verified_recovery_scrub_returns_it()
    {
        await using var h = await HealthHarness.StartAsync(new HealthOptions { RecoveryInitial = TimeSpan.FromMilliseconds(300) });
        await Poll.UntilAsync(async () => (await h.SliceDevicesAsync()).Count == 2, "both devices published");
        using var call = h.Registered.WatchHealth();
        await ReadUntilAsync(call, r => r.Devices.Count == 2);

        h.Inject("gpu-0", GpuHealthEventKind.Xid, 79);
        await Poll.UntilAsync(async () => (await h.SliceDevicesAsync()).SequenceEqual(["gpu-1"]), "gpu-0 left the slice");
        await ReadUntilAsync(call, r => Device(r, "gpu-0").Health == HealthStatus.Unhealthy);

        // Recovery: the device is still enumerated and a scrub verifies, so it returns.
        await Poll.UntilAsync(async () => (await h.SliceDevicesAsync()).Count == 2, "gpu-0 returned after the recovery scrub");
        var healthy = await ReadUntilAsync(call, r => Device(r, "gpu-0").Health == HealthStatus.Healthy);
        Assert.Equal("", Device(healthy, "gpu-0").Message);

        var scrubbed = Assert.Single(await h.NodeEventsAsync("VramScrubbed"));
        Assert.Equal(Node, scrubbed["involvedObject"]!["name"]!.GetValue<string>());
        Assert.Equal(h.NodeUid, scrubbed["involvedObject"]!["uid"]!.GetValue<string>());
        Assert.Equal("Normal", scrubbed["type"]!.GetValue<string>());
        var message = scrubbed["message"]!.GetValue<string>();
        Assert.Contains("device gpu-0", message, StringComparison.Ordinal);
        Assert.Contains("claim (retry)", message, StringComparison.Ordinal);
        Assert.Matches(@"\d+ bytes zeroed, coverage [\d.]+ ?%, duration \d+ ms, verified yes", message);
        Assert.Equal(Node, scrubbed["source"]!["host"]!.GetValue<string>());

        // One scrub, one sample, in the GPU layer's one family, labelled with why it ran.
        var metrics = h.Metrics.Render();
        Assert.Contains("securedra_scrub_duration_seconds_count{backend=\"simulated\",target=\"gpu\",trigger=\"health\",outcome=\"verified\"} 1", metrics, StringComparison.Ordinal);
        Assert.Equal(1, h.MetricValue("securedra_scrubs_total{backend=\"simulated\",target=\"gpu\",trigger=\"health\",outcome=\"verified\"}"));
        Assert.Single(metrics.Split('\n'), l => l.StartsWith("securedra_scrubs_total{", StringComparison.Ordinal));
        Assert.DoesNotContain("release_scrub", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_recovered_backend_event_returns_the_device_without_waiting_for_a_scrub()
    {
        await using var h = await HealthHarness.StartAsync(new HealthOptions { RecoveryInitial = TimeSpan.FromMinutes(5), RecoveryMax = TimeSpan.FromMinutes(10) });
        await Poll.UntilAsync(async () => (await h.SliceDevicesAsync()).Count == 2, "both devices published");
        h.Inject("gpu-1", GpuHealthEventKind.DoubleBitEcc);
        await Poll.UntilAsync(async () => (await h.SliceDevicesAsync()).SequenceEqual(["gpu-0"]), "gpu-1 left the slice");

        h.Inject("gpu-1", GpuHealthEventKind.Recovered);
        await Poll.UntilAsync(async () => (await h.SliceDevicesAsync()).Count == 2, "gpu-1 returned after the recovered event");
        Assert.Equal(DeviceHealthStatus.Healthy, h.Tracker.Get("gpu-1")!.Status);
        Assert.Empty(await h.NodeEventsAsync("VramScrubbed"));
    }

    [Fact]
    public async Task Mig_mode_switched_on_at_run_time_withdraws_the_gpu_with_its_reason_in_the_health_stream()
    {
        await using var h = await HealthHarness.StartAsync();
        using var call = h.Registered.WatchHealth();
        await ReadUntilAsync(call, r => r.Devices.Count == 2);

        h.Backend.SetFaults("gpu-1", new SimulatedFaults { MigPending = true });

        var update = await ReadUntilAsync(call, r => Device(r, "gpu-1").Health == HealthStatus.Unhealthy);
        Assert.StartsWith("MigModeEnabled:", Device(update, "gpu-1").Message, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => (await h.SliceDevicesAsync()).SequenceEqual(["gpu-0"]), "gpu-1 left the slice");
        await Poll.UntilAsync(async () => (await h.NodeEventsAsync("MigModeEnabled")).Count == 1, "the MigModeEnabled Node Event");
        Assert.Equal(1, h.MetricValue("securedra_mig_mode_withdrawals_total{change=\"withdrawn\"}"));
    }

    [Fact]
    public async Task Fatal_xid_list_override_makes_13_fatal_and_79_not()
    {
        await using var h = await HealthHarness.StartAsync(new HealthOptions { FatalXids = FatalXidCatalog.Parse("13") });
        using var call = h.Registered.WatchHealth();
        await ReadUntilAsync(call, r => r.Devices.Count == 2);

        h.Inject("gpu-0", GpuHealthEventKind.Xid, 79);
        h.Inject("gpu-1", GpuHealthEventKind.Xid, 13);
        var update = await ReadUntilAsync(call, r => Device(r, "gpu-1").Health == HealthStatus.Unhealthy);
        Assert.Equal("Xid 13", Device(update, "gpu-1").Message);
        Assert.Equal(HealthStatus.Healthy, Device(update, "gpu-0").Health);
        await Poll.UntilAsync(async () => (await h.SliceDevicesAsync()).SequenceEqual(["gpu-0"]), "only gpu-1 left the slice");
    }

    [Fact]
    public async Task Failed_recovery_scrub_shows_in_the_stream_and_as_a_node_event_and_keeps_the_device_out()
    {
        await using var h = await HealthHarness.StartAsync(new HealthOptions { RecoveryInitial = TimeSpan.FromMilliseconds(100), RecoveryMax = TimeSpan.FromMinutes(1) });
        await Poll.UntilAsync(async () => (await h.SliceDevicesAsync()).Count == 2, "both devices published");
        using var call = h.Registered.WatchHealth();
        await ReadUntilAsync(call, r => r.Devices.Count == 2);
        h.Backend.SetFaults("gpu-0", new SimulatedFaults { FailVerification = true });

        h.Inject("gpu-0", GpuHealthEventKind.Xid, 94);
        var failed = await ReadUntilAsync(call, r => Device(r, "gpu-0").Message.Contains("VRAM scrub failed", StringComparison.Ordinal));
        Assert.Equal(HealthStatus.Unhealthy, Device(failed, "gpu-0").Health);
        Assert.StartsWith("Xid 94: contained ECC error; VRAM scrub failed", Device(failed, "gpu-0").Message, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => (await h.NodeEventsAsync("VramScrubFailed")).Count >= 1, "a VramScrubFailed Event on the Node");
        var evt = (await h.NodeEventsAsync("VramScrubFailed"))[0];
        Assert.Equal("Warning", evt["type"]!.GetValue<string>());
        Assert.Equal(h.NodeUid, evt["involvedObject"]!["uid"]!.GetValue<string>());
        Assert.Contains("verified no", evt["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["gpu-1"], await h.SliceDevicesAsync());
    }

    [Fact]
    public async Task A_flapping_device_cannot_flood_the_api_server_with_scrub_events()
    {
        // Every recovery attempt fails its scrub; with a 20 ms backoff cap that is a scrub every few ms.
        await using var h = await HealthHarness.StartAsync(new HealthOptions { RecoveryInitial = TimeSpan.FromMilliseconds(10), RecoveryMax = TimeSpan.FromMilliseconds(20) });
        h.Backend.SetFaults("gpu-0", new SimulatedFaults { FailVerification = true });
        h.Inject("gpu-0", GpuHealthEventKind.Xid, 79);

        await Poll.UntilAsync(() => h.MetricValue("securedra_scrubs_total{backend=\"simulated\",target=\"gpu\",trigger=\"health\",outcome=\"not_verified\"}") >= 12, "a dozen failed scrubs", TimeSpan.FromSeconds(20));
        await Poll.UntilAsync(async () => (await h.NodeEventsAsync("VramScrubFailed")).Count >= 5, "the burst of 5 Events written");

        // A barrier, not a sleep: the device keeps flapping through ten more failed scrubs, each of which would write an
        // Event if the limit did not hold.
        var failedAtBurst = h.MetricValue("securedra_scrubs_total{backend=\"simulated\",target=\"gpu\",trigger=\"health\",outcome=\"not_verified\"}");
        await Poll.UntilAsync(() => h.MetricValue("securedra_scrubs_total{backend=\"simulated\",target=\"gpu\",trigger=\"health\",outcome=\"not_verified\"}") >= failedAtBurst + 10, "ten more failed scrubs after the burst");
        Assert.Equal(5, (await h.NodeEventsAsync("VramScrubFailed")).Count);
        Assert.True(h.MetricValue("securedra_scrubs_total{backend=\"simulated\",target=\"gpu\",trigger=\"health\",outcome=\"not_verified\"}") >= 12);
    }

    [Theory]
    [InlineData(WithdrawalMode.TaintNoSchedule, "NoSchedule")]
    [InlineData(WithdrawalMode.TaintNoExecute, "NoExecute")]
    public async Task Taint_modes_keep_the_device_listed_with_the_unhealthy_taint_and_only_taint_noexecute_evicts(WithdrawalMode mode, string effect)
    {
        await using var h = await HealthHarness.StartAsync(new HealthOptions { RecoveryInitial = TimeSpan.FromMinutes(5) }, mode: mode);
        await Poll.UntilAsync(async () => (await h.SliceDevicesAsync()).Count == 2, "both devices published");
        h.Inject("gpu-0", GpuHealthEventKind.Xid, 79);
        await Poll.UntilAsync(async () => (await h.SliceDeviceObjectsAsync()).Any(d => d["taints"] is { } t && t.AsArray().Count > 0), "gpu-0 tainted");

        var devices = await h.SliceDeviceObjectsAsync();
        Assert.Equal(2, devices.Count);
        var taint = Assert.Single(devices.Single(d => d["name"]!.GetValue<string>() == "gpu-0")["taints"]!.AsArray())!;
        Assert.Equal(DeviceTaintKeys.Unhealthy, taint["key"]!.GetValue<string>());
        Assert.NotEqual(DeviceTaintKeys.VramDirty, DeviceTaintKeys.Unhealthy);
        Assert.NotEqual(DeviceTaintKeys.ScrubFailed, DeviceTaintKeys.Unhealthy);
        Assert.Equal(effect, taint["effect"]!.GetValue<string>());
    }

    [Fact]
    public void Only_taint_noexecute_mode_renders_NoExecute()
    {
        Assert.Null(SliceDeviceRenderer.TaintEffectFor(WithdrawalMode.RemoveFromSlice));
        Assert.Equal("NoSchedule", SliceDeviceRenderer.TaintEffectFor(WithdrawalMode.TaintNoSchedule));
        Assert.Equal("NoExecute", SliceDeviceRenderer.TaintEffectFor(WithdrawalMode.TaintNoExecute));
        Assert.Equal(WithdrawalMode.RemoveFromSlice, new ClaimPipelineOptions().WithdrawalMode);
    }
}
