using Microsoft.Extensions.Options;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Nvidia;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.Nvml.Tests;

/// <summary>
/// The NVIDIA backend on a real GPU. CI filters these out (<c>--filter "Category!=Gpu"</c>); run them
/// on a GPU machine with <c>dotnet test tests/Nvml.Tests --filter Category=Gpu</c>.
/// </summary>
[Trait("Category", "Gpu")]
public class GpuHardwareTests
{
    private const uint Pattern = 0xDEADBEEF;

    [Fact]
    public async Task Enumerate_ReportsRealDevices()
    {
        await using var backend = new NvidiaGpuBackend(new NvidiaBackendOptions(), TimeProvider.System);
        var devices = await backend.EnumerateAsync(CancellationToken.None);

        Assert.NotEmpty(devices);
        foreach (var d in devices)
        {
            Assert.StartsWith("GPU-", d.Uuid, StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(d.PciBusId));
            Assert.True(d.MemoryBytes > 0);
            Assert.Matches("^[0-9]+\\.[0-9]+\\.[0-9]+$", d.DriverVersion);
            Assert.Matches("^[0-9]+\\.[0-9]+\\.[0-9]+$", d.CudaDriverVersion);
            Assert.Equal([$"/dev/nvidia{d.Minor}"], d.DeviceNodePaths);
        }
    }

    [Fact]
    public async Task VerifyKernel_DetectsPatternAndConfirmsZero()
    {
        await using var backend = new NvidiaGpuBackend(new NvidiaBackendOptions(), TimeProvider.System);
        var device = (await backend.EnumerateAsync(CancellationToken.None))[0];
        await using var session = NvidiaMemorySession.Open(device.PciBusId!);
        using var allocation = session.TryAllocate((256L * 1024 * 1024) + 12)!;
        session.Zero(allocation);
        session.Synchronize();
        Assert.True(session.VerifyZero(allocation));

        // One non-zero word at the very end (the scalar tail) must be found.
        var pointer = DevicePointer(allocation);
        session.Driver.CopyToDevice(pointer + (ulong)allocation.Bytes - 4, BitConverter.GetBytes(1u));
        Assert.False(session.VerifyZero(allocation));
    }

    [Fact]
    public async Task Canary_WrittenThroughCuda_IsGoneAfterScrub()
    {
        await using var backend = new NvidiaGpuBackend(new NvidiaBackendOptions(), TimeProvider.System);
        var device = (await backend.EnumerateAsync(CancellationToken.None))[0];
        const long canaryBytes = 1L * 1024 * 1024 * 1024;

        await using (var session = NvidiaMemorySession.Open(device.PciBusId!))
        {
            using var canary = session.TryAllocate(canaryBytes)!;
            session.Driver.MemsetD32Async(DevicePointer(canary), Pattern, canaryBytes / 4, StreamOf(session));
            session.Synchronize();
            Assert.False(session.VerifyZero(canary));
        }

        var scrubber = new VramScrubber(backend, Options.Create(new ScrubberOptions()), TimeProvider.System, new ScrubMetrics(new MetricsRegistry()));
        var report = await scrubber.ScrubAsync(device, ScrubTrigger.Cli, CancellationToken.None);
        Assert.True(report.Succeeded, report.FailureReason);
        Assert.True(report.Verified);
        Assert.True(report.Coverage >= 0.98, $"coverage {report.Coverage}");

        await using (var session = NvidiaMemorySession.Open(device.PciBusId!))
        {
            using var again = session.TryAllocate(canaryBytes)!;
            var host = new byte[64 * 1024 * 1024];
            for (long offset = 0; offset < canaryBytes; offset += host.Length)
            {
                session.Driver.CopyToHost(host, DevicePointer(again) + (ulong)offset);
                Assert.True(host.AsSpan().IndexOfAnyExcept((byte)0) < 0, $"non-zero bytes at offset {offset} after scrub");
            }
        }
    }

    private static ulong DevicePointer(IDeviceAllocation allocation) => NvidiaMemorySession.DevicePointerOf(allocation);

    private static Native.Cuda.CudaStreamHandle StreamOf(NvidiaMemorySession session) => session.Stream;
}
