using Microsoft.Extensions.Options;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Native.Cuda;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.Nvml.Tests;

/// <summary>Device errors in the middle of a scrub (as CUDA would raise them) become failed reports, never escapes.</summary>
public class VramScrubberBackendErrorTests
{
    [Theory]
    [InlineData("zero", "zero phase failed: cuMemsetD32Async returned 700 CUDA_ERROR_ILLEGAL_ADDRESS")]
    [InlineData("verify", "verify phase failed: cuMemsetD32Async returned 700 CUDA_ERROR_ILLEGAL_ADDRESS")]
    [InlineData("free", "free phase failed: cuMemsetD32Async returned 700 CUDA_ERROR_ILLEGAL_ADDRESS")]
    public async Task CudaErrorInAPhase_IsAFailedReport(string failIn, string expectedReason)
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: 1024 * 1024);
        var failing = new FailingBackend(node.Backend, failIn);
        var scrubber = new VramScrubber(failing, Options.Create(new ScrubberOptions { InitialChunkBytes = 256 * 1024, MinChunkBytes = 64 * 1024 }),
            TimeProvider.System, new ScrubMetrics(new MetricsRegistry()));

        var report = await scrubber.ScrubAsync(await node.DeviceAsync(0), ScrubTrigger.Cli, CancellationToken.None);

        Assert.False(report.Succeeded);
        Assert.False(report.Verified);
        Assert.StartsWith(expectedReason, report.FailureReason, StringComparison.Ordinal);
    }

    private static CudaException IllegalAddress() =>
        new("cuMemsetD32Async", CudaResult.IllegalAddress, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered");

    private sealed class FailingBackend(IGpuBackend inner, string failIn) : IGpuBackend
    {
        public string Kind => inner.Kind;
        public Task<IReadOnlyList<GpuDevice>> EnumerateAsync(CancellationToken cancellationToken) => inner.EnumerateAsync(cancellationToken);
        public Task<IReadOnlyList<GpuProcess>> GetRunningProcessesAsync(GpuDevice device, CancellationToken cancellationToken) => inner.GetRunningProcessesAsync(device, cancellationToken);
        public IAsyncEnumerable<GpuHealthEvent> WatchHealthAsync(CancellationToken cancellationToken) => inner.WatchHealthAsync(cancellationToken);
        public async Task<IDeviceMemorySession> OpenMemorySessionAsync(GpuDevice device, CancellationToken cancellationToken) =>
            new Session(await inner.OpenMemorySessionAsync(device, cancellationToken), failIn);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class Session(IDeviceMemorySession inner, string failIn) : IDeviceMemorySession
        {
            public string Method => inner.Method;
            public (long FreeBytes, long TotalBytes) GetMemoryInfo() => inner.GetMemoryInfo();
            public IDeviceAllocation? TryAllocate(long bytes) => inner.TryAllocate(bytes) is { } a ? new Allocation(a, failIn == "free") : null;
            public void Zero(IDeviceAllocation allocation) => (failIn == "zero" ? throw IllegalAddress() : (Action)(() => inner.Zero(((Allocation)allocation).Inner)))();
            public bool VerifyZero(IDeviceAllocation allocation) => failIn == "verify" ? throw IllegalAddress() : inner.VerifyZero(((Allocation)allocation).Inner);
            public void Synchronize() => inner.Synchronize();
            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }

        private sealed class Allocation(IDeviceAllocation inner, bool failOnFree) : IDeviceAllocation
        {
            public IDeviceAllocation Inner => inner;
            public long Bytes => inner.Bytes;

            public void Dispose()
            {
                inner.Dispose();
                if (failOnFree)
                {
                    throw IllegalAddress();
                }
            }
        }
    }
}
