using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Memory;
using SecureDra.KubeletPlugin.Registration;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Tests.Memory;

/// <summary>
/// The start-up trim runs once, only after the plugin is first ready (what /readyz says), on the injected clock; a
/// failure is counted and the service ends quietly (the plugin runs on).
/// </summary>
public sealed class StartupMemoryTrimTests
{
    [Fact]
    public async Task Trims_once_and_only_after_registration_and_every_check_are_ready()
    {
        using var dir = TempDir.Create();
        var time = new TimerSignallingTime();
        var registration = new RegistrationStatusTracker(time);
        var check = new ToggleCheck();
        var metrics = new MetricsRegistry();
        var probes = new HttpProbeEndpoints(PluginSocketLayout.Resolve(TestPlugin.DefaultOptions(dir)), registration, [check], metrics);
        var trims = Channel.CreateUnbounded<bool>();
        using var trim = new StartupMemoryTrim(probes, metrics, time, NullLogger<StartupMemoryTrim>.Instance, () =>
        {
            trims.Writer.TryWrite(true);
            return new PageOutResult("/securedra", 2, 20 << 20, 3 << 20);
        });
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await trim.StartAsync(deadline.Token);

        // Each timer read proves one readiness look went by: first not registered, then registered with a check not ready.
        Assert.Equal(StartupMemoryTrim.ReadinessPoll, await time.Timers.Reader.ReadAsync(deadline.Token));
        Assert.False(trims.Reader.TryRead(out _), "trimmed before the kubelet registered the plugin");
        registration.Record(true, null);
        time.Advance(StartupMemoryTrim.ReadinessPoll);
        Assert.Equal(StartupMemoryTrim.ReadinessPoll, await time.Timers.Reader.ReadAsync(deadline.Token));
        Assert.False(trims.Reader.TryRead(out _), "trimmed while a readiness check said not ready");

        check.Ready = true;
        time.Advance(StartupMemoryTrim.ReadinessPoll - TimeSpan.FromTicks(1));
        Assert.False(trims.Reader.TryRead(out _), "looked again before the poll interval");
        time.Advance(TimeSpan.FromTicks(1));
        await trims.Reader.ReadAsync(deadline.Token);
        await trim.ExecuteTask!.WaitAsync(deadline.Token);
        Assert.Equal(1, metrics.Counter("securedra_memory_trims_total", "", "result").Value("done"));
        Assert.Equal(17 << 20, metrics.Gauge("securedra_memory_trim_reclaimed_bytes", "", "part").Value("executable"));

        // Once per process: the loop has ended; more time passing trims nothing more.
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.False(trims.Reader.TryRead(out _));
        Assert.False(time.Timers.Reader.TryRead(out _), "still polling after the trim");
        await trim.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_refused_page_out_is_counted_as_failed_and_the_service_ends_without_throwing()
    {
        using var dir = TempDir.Create();
        var time = new FakeTimeProvider();
        var registration = new RegistrationStatusTracker(time);
        registration.Record(true, null);
        var metrics = new MetricsRegistry();
        var probes = new HttpProbeEndpoints(PluginSocketLayout.Resolve(TestPlugin.DefaultOptions(dir)), registration, [], metrics);
        using var trim = new StartupMemoryTrim(probes, metrics, time, NullLogger<StartupMemoryTrim>.Instance,
            () => throw new IOException("madvise(MADV_PAGEOUT) failed on all 3 mappings of /securedra (errno 22)"));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await trim.StartAsync(deadline.Token);
        await trim.ExecuteTask!.WaitAsync(deadline.Token);
        Assert.True(trim.ExecuteTask.IsCompletedSuccessfully);
        Assert.Equal(1, metrics.Counter("securedra_memory_trims_total", "", "result").Value("failed"));
        Assert.Equal(0, metrics.Counter("securedra_memory_trims_total", "", "result").Value("done"));
        await trim.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Stopping_before_ready_ends_the_wait_without_a_trim()
    {
        using var dir = TempDir.Create();
        var time = new FakeTimeProvider();
        var metrics = new MetricsRegistry();
        var probes = new HttpProbeEndpoints(PluginSocketLayout.Resolve(TestPlugin.DefaultOptions(dir)), new RegistrationStatusTracker(time), [], metrics);
        var called = false;
        using var trim = new StartupMemoryTrim(probes, metrics, time, NullLogger<StartupMemoryTrim>.Instance, () =>
        {
            called = true;
            return new PageOutResult("/securedra", 0, 0, 0);
        });
        await trim.StartAsync(CancellationToken.None);
        await trim.StopAsync(CancellationToken.None);
        // Completed, not faulted (canceled when the stop came before the service's first step ran).
        Assert.True(trim.ExecuteTask!.IsCompleted);
        Assert.False(trim.ExecuteTask.IsFaulted);
        Assert.False(called);
        Assert.Equal(0, metrics.Counter("securedra_memory_trims_total", "", "result").Value("done"));
    }

    private sealed class ToggleCheck : IPluginReadinessCheck
    {
        public volatile bool Ready;

        public string Name => "toggle";

        public PluginReadiness Check() => new(Ready, Ready ? "ready" : "not yet");
    }
}
