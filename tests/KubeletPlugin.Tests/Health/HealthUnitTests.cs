using SecureDra.KubeletPlugin.Health;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Tests.Health;

public sealed class FatalXidCatalogTests
{
    [Theory]
    [InlineData("abc", "\"abc\"")]
    [InlineData("0", "\"0\"")]
    [InlineData("1001", "\"1001\"")]
    [InlineData("-5", "\"-5\"")]
    [InlineData("79,x7", "\"x7\"")]
    [InlineData("+79", "\"+79\"")]
    [InlineData("7 9", "\"7 9\"")]
    public void Parse_rejects_bad_entries_naming_the_flag_and_the_entry(string list, string quoted)
    {
        var ex = Assert.Throws<FormatException>(() => FatalXidCatalog.Parse(list));
        Assert.StartsWith("--fatal-xids: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(quoted, ex.Message, StringComparison.Ordinal);
        Assert.Contains("between 1 and 1000", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_accepts_spaces_and_empty_entries_and_an_empty_list_means_no_fatal_xid()
    {
        Assert.Equal([48, 79, 94], FatalXidCatalog.Parse(" 48, 79 ,,94 "));
        Assert.Empty(FatalXidCatalog.Parse(""));
        Assert.False(new FatalXidCatalog(FatalXidCatalog.Parse("")).IsFatal(79));
    }

    [Fact]
    public void Defaults_are_hardware_faults_never_tenant_caused_errors()
    {
        var catalog = new FatalXidCatalog();
        foreach (var xid in new[] { 48, 62, 63, 64, 74, 79, 92, 94, 95, 119, 120, 140 })
        {
            Assert.True(catalog.IsFatal(xid), $"Xid {xid}");
        }

        foreach (var xid in new[] { 13, 31, 43, 45, 68, 109 })
        {
            Assert.False(catalog.IsFatal(xid), $"Xid {xid} is caused by a tenant's program");
        }

        Assert.Equal("Xid 79: GPU has fallen off the bus", FatalXidCatalog.Describe(79));
        Assert.Equal("Xid 13", FatalXidCatalog.Describe(13));
    }

    [Fact]
    public void Xids_declared_fatal_are_let_through_the_nvidia_application_xid_filter()
    {
        var applicationXids = new SecureDra.Nvml.Backends.Nvidia.NvidiaBackendOptions().ApplicationXids;
        Assert.Equal(applicationXids.Order(), new FatalXidCatalog().LetThrough(applicationXids).Order());
        Assert.Equal([31UL, 43UL, 45UL, 68UL, 109UL], new FatalXidCatalog(FatalXidCatalog.Parse("13,79")).LetThrough(applicationXids).Order());
    }

    [Fact]
    public void Override_replaces_the_defaults()
    {
        var catalog = new FatalXidCatalog(FatalXidCatalog.Parse("13"));
        Assert.True(catalog.IsFatal(13));
        Assert.False(catalog.IsFatal(79));
    }
}

public sealed class DeviceHealthTrackerTests
{
    private readonly MetricsRegistry _metrics = new();
    private readonly DeviceHealthTracker _tracker;

    public DeviceHealthTrackerTests()
    {
        _tracker = new(TimeProvider.System, _metrics);
    }

    private double Subscriptions => _metrics.Gauge(DeviceHealthTracker.SubscriptionsMetric, "").Value();

    [Fact]
    public void Initialize_registers_devices_healthy_and_keeps_known_state()
    {
        _tracker.Report("gpu-1", DeviceHealthStatus.Unhealthy, "GPU lost");
        _tracker.Initialize(["gpu-1", "gpu-0"]);
        var snapshot = _tracker.Snapshot();
        Assert.Equal(["gpu-0", "gpu-1"], snapshot.Select(d => d.DeviceName));
        Assert.Equal(DeviceHealthStatus.Healthy, snapshot[0].Status);
        Assert.Equal(DeviceHealthStatus.Unhealthy, snapshot[1].Status);
        Assert.Equal(DeviceHealthStatus.Unknown, _tracker.GpuStatus("gpu-9"));
        Assert.Null(_tracker.Get("gpu-9"));
    }

    [Fact]
    public void Report_signals_subscribers_only_on_change()
    {
        _tracker.Initialize(["gpu-0"]);
        using var sub = _tracker.Subscribe();
        Assert.False(sub.Changes.TryRead(out _));

        Assert.False(_tracker.Report("gpu-0", DeviceHealthStatus.Healthy, ""));
        Assert.False(sub.Changes.TryRead(out _));

        Assert.True(_tracker.Report("gpu-0", DeviceHealthStatus.Unhealthy, "Xid 79: GPU has fallen off the bus"));
        Assert.True(_tracker.Report("gpu-0", DeviceHealthStatus.Unhealthy, "GPU lost"));
        Assert.True(sub.Changes.TryRead(out _));
        Assert.False(sub.Changes.TryRead(out _)); // coalesced: a slow stream never buffers without bound
    }

    [Fact]
    public void Scrub_problems_make_the_effective_health_unhealthy_without_touching_the_gpu_status()
    {
        _tracker.Initialize(["gpu-0"]);
        Assert.True(_tracker.ReportScrubProblem("gpu-0", "VRAM scrub failed"));
        Assert.False(_tracker.ReportScrubProblem("gpu-0", "VRAM scrub failed"));
        Assert.Equal(DeviceHealthStatus.Unhealthy, _tracker.Get("gpu-0")!.Status);
        Assert.Equal("VRAM scrub failed", _tracker.Get("gpu-0")!.Message);
        Assert.Equal(DeviceHealthStatus.Healthy, _tracker.GpuStatus("gpu-0"));

        _tracker.Report("gpu-0", DeviceHealthStatus.Unhealthy, "GPU lost");
        Assert.Equal("GPU lost; VRAM scrub failed", _tracker.Get("gpu-0")!.Message);
        Assert.Equal("GPU lost", _tracker.GpuMessage("gpu-0"));

        _tracker.ReportScrubProblem("gpu-0", null);
        _tracker.Report("gpu-0", DeviceHealthStatus.Healthy, "");
        Assert.Equal(new[] { (DeviceHealthStatus.Healthy, "") }, _tracker.Snapshot().Select(d => (d.Status, d.Message)));
    }

    [Fact]
    public void Disposed_subscriptions_are_released_and_completed()
    {
        var subs = Enumerable.Range(0, 5).Select(_ => _tracker.Subscribe()).ToList();
        Assert.Equal(5, Subscriptions);
        foreach (var sub in subs)
        {
            sub.Dispose();
            sub.Dispose(); // idempotent
        }

        Assert.Equal(0, Subscriptions);
        Assert.True(subs[0].Changes.Completion.IsCompleted);
        _tracker.Report("gpu-0", DeviceHealthStatus.Unhealthy, "x"); // no subscriber left: nothing to signal, nothing thrown
    }

    [Fact]
    public void Messages_are_cut_to_the_kubelet_limit_without_splitting_a_surrogate_pair()
    {
        Assert.Equal(1024, DraResourceHealthService.Truncate(new string('a', 5000)).Length);
        var text = new string('a', 1023) + "😀" + "tail";
        var cut = DraResourceHealthService.Truncate(text);
        Assert.Equal(1023, cut.Length);
        Assert.Equal("short", DraResourceHealthService.Truncate("short"));
    }
}
