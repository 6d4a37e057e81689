using System.Runtime.CompilerServices;
using SecureDra.Nvml.Backends;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// One MIG instance presented as a backend with a single device, so the scrub worker runs the same
/// <see cref="VramScrubber"/> (allocate all, zero, device-verify, coverage rule) on it as on a whole GPU.
/// </summary>
internal sealed class MigInstanceView(
    string kind,
    GpuDevice device,
    Func<CancellationToken, Task<IReadOnlyList<GpuProcess>>> processes,
    Func<IDeviceMemorySession> openSession) : IGpuBackend
{
    public string Kind => kind;

    public Task<IReadOnlyList<GpuDevice>> EnumerateAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<GpuDevice>>([device]);

    public Task<IReadOnlyList<GpuProcess>> GetRunningProcessesAsync(GpuDevice device, CancellationToken cancellationToken) => processes(cancellationToken);

    public Task<IDeviceMemorySession> OpenMemorySessionAsync(GpuDevice device, CancellationToken cancellationToken) => Task.FromResult(openSession());

    public async IAsyncEnumerable<GpuHealthEvent> WatchHealthAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        yield break;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
