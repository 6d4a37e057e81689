using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Canary;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.Nvml.Tests;

/// <summary>The VRAM canary on real (memory-mapped) simulated VRAM: finds one stray byte, leaves its marker, respects its bounds.</summary>
public sealed class VramCanaryTests
{
    private const long Size = 8L * 1024 * 1024;

    private static VramCanary Canary(IGpuBackend backend, CapturingLogger<VramCanary>? logger = null) =>
        new(backend, TimeProvider.System, logger ?? new CapturingLogger<VramCanary>());

    [Fact]
    public async Task A_clean_gpu_passes_and_the_marker_left_behind_fails_the_next_run_until_a_scrub_removes_it()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        var gpu = await node.DeviceAsync(0);
        var logger = new CapturingLogger<VramCanary>();
        var canary = Canary(node.Backend, logger);

        var first = await canary.RunAsync(gpu, new CanaryOptions(), CancellationToken.None);
        Assert.Equal(CanaryVerdict.Clean, first.Verdict);
        Assert.Equal(Size, first.BytesChecked);
        Assert.True(first.MarkerWritten);
        var vram = node.Backend.VramPath("gpu-0");
        Assert.Equal(Size, await SimulatedVramFile.CountNonZeroBytesAsync(vram, CancellationToken.None));
        Assert.Equal(BitConverter.GetBytes(CanaryOptions.MarkerPattern), File.ReadAllBytes(vram)[4096..4100]);

        var second = await canary.RunAsync(gpu, new CanaryOptions(), CancellationToken.None);
        Assert.Equal(CanaryVerdict.Dirty, second.Verdict);
        Assert.Equal(Size, second.DirtyBytes);

        Assert.True((await node.Scrubber.ScrubAsync(gpu, ScrubTrigger.Cli, CancellationToken.None)).Succeeded);
        Assert.Equal(CanaryVerdict.Clean, (await canary.RunAsync(gpu, new CanaryOptions(), CancellationToken.None)).Verdict);

        Assert.Equal(["VramCanaryPassed", "VramCanaryFailed", "VramCanaryPassed"], logger.Events.Select(e => e.EventName));
        Assert.Equal(Size, (long)logger.Events.ElementAt(1).Properties["DirtyBytes"]!);
    }

    [Fact]
    public async Task One_non_zero_byte_anywhere_is_found()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        var gpu = await node.DeviceAsync(0);
        using (var file = new FileStream(node.Backend.VramPath("gpu-0"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.Position = Size - 1;
            file.WriteByte(1);
        }

        var report = await Canary(node.Backend).RunAsync(gpu, new CanaryOptions { ChunkBytes = CanaryOptions.Alignment }, CancellationToken.None);
        Assert.Equal(CanaryVerdict.Dirty, report.Verdict);
        Assert.Equal(4, report.Allocations);
        Assert.Equal(1, report.DirtyAllocations);
        Assert.Equal(CanaryOptions.Alignment, report.DirtyBytes);
    }

    [Fact]
    public async Task Max_bytes_bounds_what_is_checked_and_marked()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        var gpu = await node.DeviceAsync(0);
        var report = await Canary(node.Backend).RunAsync(gpu, new CanaryOptions { MaxBytes = 2L * 1024 * 1024 }, CancellationToken.None);
        Assert.Equal(CanaryVerdict.Clean, report.Verdict);
        Assert.Equal(2L * 1024 * 1024, report.BytesChecked);
        Assert.Equal(2L * 1024 * 1024, await SimulatedVramFile.CountNonZeroBytesAsync(node.Backend.VramPath("gpu-0"), CancellationToken.None));
    }

    [Fact]
    public async Task When_memory_is_scarce_it_halves_its_requests_and_checks_what_it_gets()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        var gpu = await node.DeviceAsync(0);
        SimulatedFaultFile.Write(node.Directory, "gpu-0", new SimulatedFaults { AllocatableFraction = 0.5 });
        var report = await Canary(node.Backend).RunAsync(gpu, new CanaryOptions(), CancellationToken.None);
        Assert.Equal(CanaryVerdict.Clean, report.Verdict);
        Assert.Equal(Size / 2, report.BytesChecked);
    }

    [Fact]
    public async Task No_memory_no_verdict_the_run_is_incomplete_not_clean()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        var gpu = await node.DeviceAsync(0);
        SimulatedFaultFile.Write(node.Directory, "gpu-0", new SimulatedFaults { FailAllocations = true });
        var logger = new CapturingLogger<VramCanary>();
        var report = await Canary(node.Backend, logger).RunAsync(gpu, new CanaryOptions(), CancellationToken.None);
        Assert.Equal(CanaryVerdict.Incomplete, report.Verdict);
        Assert.False(report.Passed);
        Assert.Contains("could not allocate", report.FailureReason, StringComparison.Ordinal);
        Assert.Equal("VramCanaryIncomplete", Assert.Single(logger.Events).EventName);
    }

    [Fact]
    public async Task A_run_past_its_timeout_is_incomplete()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        var gpu = await node.DeviceAsync(0);

        // Each memory operation takes 1.5 s; the whole run may take 1 s, so it must stop after the first.
        SimulatedFaultFile.Write(node.Directory, "gpu-0", new SimulatedFaults { MemoryDelayMs = 1500 });
        var report = await Canary(node.Backend).RunAsync(gpu, new CanaryOptions { Timeout = TimeSpan.FromSeconds(1) }, CancellationToken.None);
        Assert.Equal(CanaryVerdict.Incomplete, report.Verdict);
        Assert.Equal("timed out after 1 s", report.FailureReason);
        Assert.False(report.MarkerWritten);
    }

    [Fact]
    public async Task A_backend_that_cannot_write_a_marker_is_incomplete()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Size);
        var gpu = await node.DeviceAsync(0);
        var report = await Canary(new NoFillBackend(node.Backend)).RunAsync(gpu, new CanaryOptions(), CancellationToken.None);
        Assert.Equal(CanaryVerdict.Incomplete, report.Verdict);
        Assert.Contains("cannot write a marker", report.FailureReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 0, "timeout")]
    [InlineData(7200, 0, "timeout")]
    [InlineData(60, -1, "max-bytes")]
    [InlineData(60, 1024 * 1024, "max-bytes")]
    public void Options_out_of_bounds_are_refused_naming_the_field(int timeoutSeconds, long maxBytes, string field)
    {
        var options = new CanaryOptions { Timeout = TimeSpan.FromSeconds(timeoutSeconds), MaxBytes = maxBytes };
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.StartsWith(field + ":", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A backend whose sessions only have the scrubber's operations.</summary>
    private sealed class NoFillBackend(IGpuBackend inner) : IGpuBackend
    {
        public string Kind => inner.Kind;

        public Task<IReadOnlyList<GpuDevice>> EnumerateAsync(CancellationToken cancellationToken) => inner.EnumerateAsync(cancellationToken);

        public Task<IReadOnlyList<GpuProcess>> GetRunningProcessesAsync(GpuDevice device, CancellationToken cancellationToken) =>
            inner.GetRunningProcessesAsync(device, cancellationToken);

        public IAsyncEnumerable<GpuHealthEvent> WatchHealthAsync(CancellationToken cancellationToken) => inner.WatchHealthAsync(cancellationToken);

        public async Task<IDeviceMemorySession> OpenMemorySessionAsync(GpuDevice device, CancellationToken cancellationToken) =>
            new Plain(await inner.OpenMemorySessionAsync(device, cancellationToken));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class Plain(IDeviceMemorySession s) : IDeviceMemorySession
        {
            public string Method => s.Method;
            public (long FreeBytes, long TotalBytes) GetMemoryInfo() => s.GetMemoryInfo();
            public IDeviceAllocation? TryAllocate(long bytes) => s.TryAllocate(bytes);
            public void Zero(IDeviceAllocation allocation) => s.Zero(allocation);
            public bool VerifyZero(IDeviceAllocation allocation) => s.VerifyZero(allocation);
            public void Synchronize() => s.Synchronize();
            public ValueTask DisposeAsync() => s.DisposeAsync();
        }
    }
}
