using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.Nvml.Tests;

public class VramScrubberSimulatedTests
{
    private const long Size = 8L * 1024 * 1024;

    [Fact]
    public async Task Canary_AtRandomOffsets_IsGoneAfterScrub()
    {
        await using var node = new SimulatedNode(gpus: 2, memoryBytes: Size);
        var device = await node.DeviceAsync(1);
        var path = node.Backend.VramPath(device.Name);
        var random = new Random(1234);
        var offsets = Enumerable.Range(0, 64).Select(_ => random.NextInt64(0, Size - 16)).Append(0).Append(Size - 16).ToArray();

        // Written through an ordinary file handle, as another process (or an operator) would.
        await using (var writer = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            foreach (var offset in offsets)
            {
                writer.Position = offset;
                await writer.WriteAsync("CANARY-SECRET!!!"u8.ToArray());
            }
        }

        Assert.Contains((byte)'C', await File.ReadAllBytesAsync(path));

        var report = await node.Scrubber.ScrubAsync(device, ScrubTrigger.Cli, CancellationToken.None);

        Assert.True(report.Succeeded, report.FailureReason);
        Assert.True(report.Verified);
        Assert.Null(report.FailureReason);
        Assert.Equal(Size, report.TotalBytes);
        Assert.Equal(Size, report.FreeBytesBefore);
        Assert.Equal(Size, report.BytesZeroed);
        Assert.Equal(1.0, report.Coverage);
        Assert.Equal("mmap-parallel-clear+readback", report.Method);
        Assert.True(report.TotalDuration >= report.ZeroDuration);

        var after = await File.ReadAllBytesAsync(path);
        Assert.Equal(Size, after.Length);
        Assert.True(after.AsSpan().IndexOfAnyExcept((byte)0) < 0, "canary bytes survived the scrub");
    }

    [Fact]
    public async Task Scrub_RecordsMetricsAndAStructuredEvent()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        var report = await node.Scrubber.ScrubAsync(await node.DeviceAsync(0), ScrubTrigger.Cli, CancellationToken.None);
        Assert.True(report.Succeeded);

        var text = node.Metrics.Render();
        Assert.Contains("securedra_scrubs_total{backend=\"simulated\",target=\"gpu\",trigger=\"cli\",outcome=\"verified\"} 1", text, StringComparison.Ordinal);
        Assert.Contains($"securedra_scrub_bytes_total{{backend=\"simulated\",target=\"gpu\",trigger=\"cli\"}} {Size}", text, StringComparison.Ordinal);
        Assert.Contains("securedra_scrub_duration_seconds_count{backend=\"simulated\",target=\"gpu\",trigger=\"cli\",outcome=\"verified\"} 1", text, StringComparison.Ordinal);

        var logged = Assert.Single(node.Logger.Events, e => e.EventName == "VramScrubbed");
        Assert.Equal("gpu-0", logged.Properties["Device"]);
        Assert.Equal(Size, logged.Properties["BytesZeroed"]);
        Assert.Equal(1.0, logged.Properties["Coverage"]);
        Assert.Equal(true, logged.Properties["Verified"]);
        Assert.Equal("cli", logged.Properties["Trigger"]);
        Assert.Single(node.Logger.Events);
    }

    [Fact]
    public async Task RunningProcesses_RefuseWithAFailedReport()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        var device = await node.DeviceAsync(0);
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { RunningProcesses = [new SimulatedProcess(4242, 1024), new SimulatedProcess(7, 0)] });

        var report = await node.Scrubber.ScrubAsync(device, ScrubTrigger.Cli, CancellationToken.None);

        Assert.True(report.Refused);
        Assert.False(report.Succeeded);
        Assert.False(report.Verified);
        Assert.Equal(0, report.BytesZeroed);
        Assert.Equal([4242, 7], report.BlockingProcesses.Select(p => p.Pid));
        Assert.Contains("refusing to scrub gpu-0: 2 compute process(es) still running (pids 4242, 7)", report.FailureReason, StringComparison.Ordinal);
        Assert.Contains("outcome=\"refused\"} 1", node.Metrics.Render(), StringComparison.Ordinal);
        Assert.Single(node.Logger.Events, ev => ev.EventName == "VramScrubRefused");
    }

    [Fact]
    public async Task AllocationFailure_FailsClosedOnCoverage()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { FailAllocations = true });

        var report = await node.Scrubber.ScrubAsync(await node.DeviceAsync(0), ScrubTrigger.Cli, CancellationToken.None);

        Assert.False(report.Succeeded);
        Assert.False(report.Verified);
        Assert.Equal(0, report.BytesZeroed);
        Assert.Contains("coverage 0.0000 is below the minimum 0.9900 of total memory", report.FailureReason, StringComparison.Ordinal);
        Assert.Equal(Size, report.UncoveredBytes);
        Assert.Contains("securedra_scrubs_total{backend=\"simulated\",target=\"gpu\",trigger=\"cli\",outcome=\"not_verified\"} 1", node.Metrics.Render(), StringComparison.Ordinal);
        Assert.Single(node.Logger.Events, ev => ev.EventName == "VramScrubFailed");
    }

    [Fact]
    public async Task PartialAllocation_HalvesChunksThenFailsOnCoverage()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        // 0.6 of 8 MiB is not a multiple of the 1 MiB chunk: the scrubber must halve down to 64 KiB to get close.
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { AllocatableFraction = 0.6 });

        var report = await node.Scrubber.ScrubAsync(await node.DeviceAsync(0), ScrubTrigger.Cli, CancellationToken.None);

        Assert.False(report.Succeeded);
        Assert.InRange(report.BytesZeroed, (long)(Size * 0.6) - (64 * 1024), (long)(Size * 0.6));
        Assert.InRange(report.Coverage, 0.59, 0.6);
        Assert.Contains("is below the minimum", report.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PartialAllocation_AboveThreshold_Succeeds()
    {
        // --scrub-min-coverage now bounds the first scrub's gap (which becomes the reserved baseline), from 0.9 up.
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size, configure: o => o.MinCoverage = 0.9);
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { AllocatableFraction = 0.95 });

        var report = await node.Scrubber.ScrubAsync(await node.DeviceAsync(0), ScrubTrigger.Cli, CancellationToken.None);

        Assert.True(report.Succeeded, report.FailureReason);
        Assert.InRange(report.Coverage, 0.94, 0.95);
        Assert.Equal(report.UncoveredBytes, report.BaselineReservedBytes);
        Assert.Equal(0, report.UnallocatableBytes);
    }

    [Fact]
    public async Task FailedVerification_IsAFailureWithReason()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { FailVerification = true });

        var report = await node.Scrubber.ScrubAsync(await node.DeviceAsync(0), ScrubTrigger.Cli, CancellationToken.None);

        Assert.False(report.Succeeded);
        Assert.False(report.Verified);
        Assert.Contains("verification found non-zero memory in 8 of 8 chunk(s)", report.FailureReason, StringComparison.Ordinal);
        // The stuck bytes are really there: the read-back was real.
        Assert.Contains((byte)0xA5, await File.ReadAllBytesAsync(node.Backend.VramPath("gpu-0")));
    }

    [Fact]
    public async Task SlowMemory_PastDeadline_FailsWithReason()
    {
        // The deadline must leave set-up and allocation far inside it even on a loaded CI machine (a 100 ms
        // deadline was sometimes spent before the zero phase began), while the slow memory overruns it for sure.
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size, configure: o => o.Deadline = TimeSpan.FromSeconds(1));
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MemoryDelayMs = 1500 });

        var report = await node.Scrubber.ScrubAsync(await node.DeviceAsync(0), ScrubTrigger.Cli, CancellationToken.None);

        Assert.False(report.Succeeded);
        Assert.Contains("deadline of 1.0 s exceeded during the zero phase", report.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VanishedBackingFile_FailsCleanly()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        var device = await node.DeviceAsync(0);
        File.Delete(node.Backend.VramPath("gpu-0"));

        var report = await node.Scrubber.ScrubAsync(device, ScrubTrigger.Cli, CancellationToken.None);

        Assert.False(report.Succeeded);
        Assert.Contains("gpu-0.vram vanished", report.FailureReason, StringComparison.Ordinal);
        var e = await Assert.ThrowsAsync<GpuBackendException>(() => node.Backend.OpenMemorySessionAsync(device, CancellationToken.None));
        Assert.Contains("vanished", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailedSession_And_UnreadableFaultFile_FailClosed()
    {
        await using var node = new SimulatedNode(gpus: 2, memoryBytes: Size);
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { FailSession = true });
        await File.WriteAllTextAsync(Path.Combine(node.Directory, "gpu-1.faults.json"), "{ not json");

        var first = await node.Scrubber.ScrubAsync(await node.DeviceAsync(0), ScrubTrigger.Cli, CancellationToken.None);
        var second = await node.Scrubber.ScrubAsync(await node.DeviceAsync(1), ScrubTrigger.Cli, CancellationToken.None);

        Assert.False(first.Succeeded);
        Assert.Contains("setup phase failed: simulated device gpu-0: memory session failed", first.FailureReason, StringComparison.Ordinal);
        Assert.False(second.Succeeded);
        Assert.StartsWith("could not list compute processes: fault file", second.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SameDevice_Serialized_DifferentDevices_Parallel()
    {
        var probe = new ConcurrencyProbe();
        await using var node = new SimulatedNode(gpus: 2, memoryBytes: Size, wrap: probe);
        probe.Inner = node.Backend;
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MemoryDelayMs = 10 });
        node.Backend.SetFaults("gpu-1", new SimulatedFaults { MemoryDelayMs = 10 });
        var d0 = await node.DeviceAsync(0);
        var d1 = await node.DeviceAsync(1);

        var reports = await Task.WhenAll(
            node.Scrubber.ScrubAsync(d0, ScrubTrigger.Cli, CancellationToken.None),
            node.Scrubber.ScrubAsync(d0, ScrubTrigger.Cli, CancellationToken.None),
            node.Scrubber.ScrubAsync(d1, ScrubTrigger.Cli, CancellationToken.None),
            node.Scrubber.ScrubAsync(d1, ScrubTrigger.Cli, CancellationToken.None));

        Assert.All(reports, r => Assert.True(r.Succeeded, r.FailureReason));
        Assert.Equal(1, probe.MaxPerDevice);
        Assert.Equal(2, probe.MaxOverall);
    }

    [Fact]
    public void Options_Validate_NamesTheFlag()
    {
        var e = Assert.Throws<ArgumentException>(() => new ScrubberOptions { MinCoverage = 1.5 }.Validate());
        Assert.Contains("scrub-min-coverage", e.Message, StringComparison.Ordinal);
        // Below 0.9 a "reserved baseline" could be a tenth of the device: refused, naming the bound.
        e = Assert.Throws<ArgumentException>(() => new ScrubberOptions { MinCoverage = 0.5 }.Validate());
        Assert.Contains("must be from 0.9 to 1", e.Message, StringComparison.Ordinal);
        Assert.Equal(0.99, new ScrubberOptions().MinCoverage);
        Assert.Throws<ArgumentException>(() => new ScrubberOptions { MinChunkBytes = 100 }.Validate());
        Assert.Throws<ArgumentException>(() => new ScrubberOptions { Deadline = TimeSpan.Zero }.Validate());
    }

    [Fact]
    public async Task AddGpuLayer_Simulated_ResolvesBackendAndScrubber()
    {
        using var dir = new TempDir();
        var services = new ServiceCollection();
        services.AddGpuLayer(new GpuBackendOptions
        {
            Kind = GpuBackendKind.Simulated,
            Simulated = new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = 1024 * 1024, VramDirectory = dir.Path },
            ScrubMinCoverage = 0.9,
        });
        await using var provider = services.BuildServiceProvider();

        var backend = provider.GetRequiredService<IGpuBackend>();
        Assert.Equal("simulated", backend.Kind);
        Assert.Equal(0.9, provider.GetRequiredService<IOptions<ScrubberOptions>>().Value.MinCoverage);
        var device = (await backend.EnumerateAsync(CancellationToken.None))[0];
        var report = await provider.GetRequiredService<IVramScrubber>().ScrubAsync(device, ScrubTrigger.Cli, CancellationToken.None);
        Assert.True(report.Succeeded, report.FailureReason);
        Assert.Contains("securedra_scrubs_total", provider.GetRequiredService<MetricsRegistry>().Render(), StringComparison.Ordinal);
    }

    /// <summary>Counts concurrently open memory sessions, per device and overall.</summary>
    private sealed class ConcurrencyProbe : IGpuBackend
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, int> _open = [];
        private readonly TaskCompletionSource _bothOpen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _overall;

        public IGpuBackend Inner { get; set; } = null!;
        public int MaxPerDevice { get; private set; }
        public int MaxOverall { get; private set; }
        public string Kind => Inner.Kind;

        public Task<IReadOnlyList<GpuDevice>> EnumerateAsync(CancellationToken cancellationToken) => Inner.EnumerateAsync(cancellationToken);

        public Task<IReadOnlyList<GpuProcess>> GetRunningProcessesAsync(GpuDevice device, CancellationToken cancellationToken) =>
            Inner.GetRunningProcessesAsync(device, cancellationToken);

        public IAsyncEnumerable<GpuHealthEvent> WatchHealthAsync(CancellationToken cancellationToken) => Inner.WatchHealthAsync(cancellationToken);

        public async Task<IDeviceMemorySession> OpenMemorySessionAsync(GpuDevice device, CancellationToken cancellationToken)
        {
            var session = await Inner.OpenMemorySessionAsync(device, cancellationToken);
            lock (_gate)
            {
                _open[device.Name] = _open.GetValueOrDefault(device.Name) + 1;
                _overall++;
                MaxPerDevice = Math.Max(MaxPerDevice, _open[device.Name]);
                MaxOverall = Math.Max(MaxOverall, _overall);
                if (_overall >= 2)
                {
                    _bothOpen.TrySetResult();
                }
            }

            // A barrier, not a sleep: a session stays open until a session of the other device is open too, so two
            // devices scrubbed in parallel always overlap. A scrubber that serialized devices would keep the second
            // from ever opening: the wait then ends at its (generous) deadline and MaxOverall stays 1.
            if (Volatile.Read(ref _overall) < 2)
            {
                await Task.WhenAny(_bothOpen.Task, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken));
            }
            return new Tracked(session, () =>
            {
                lock (_gate)
                {
                    _open[device.Name]--;
                    _overall--;
                }
            });
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class Tracked(IDeviceMemorySession inner, Action closed) : IDeviceMemorySession
        {
            public string Method => inner.Method;
            public (long FreeBytes, long TotalBytes) GetMemoryInfo() => inner.GetMemoryInfo();
            public IDeviceAllocation? TryAllocate(long bytes) => inner.TryAllocate(bytes);
            public void Zero(IDeviceAllocation allocation) => inner.Zero(allocation);
            public bool VerifyZero(IDeviceAllocation allocation) => inner.VerifyZero(allocation);
            public void Synchronize() => inner.Synchronize();

            public async ValueTask DisposeAsync()
            {
                closed();
                await inner.DisposeAsync();
            }
        }
    }
}
