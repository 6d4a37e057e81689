namespace SecureDra.Nvml.Backends;

/// <summary>
/// The GPU layer's single entry point for everything above it. Implementations: NVIDIA
/// (NVML + CUDA driver API) and simulated (memory-mapped files). Knows nothing of Kubernetes.
/// </summary>
public interface IGpuBackend : IAsyncDisposable
{
    /// <summary>"nvidia" or "simulated"; used in logs and metric labels.</summary>
    string Kind { get; }

    /// <summary>Enumerates the node's GPUs. Throws <see cref="GpuBackendException"/> with a clear message when no driver is present.</summary>
    Task<IReadOnlyList<GpuDevice>> EnumerateAsync(CancellationToken cancellationToken);

    /// <summary>Compute processes that still hold the device; a scrub refuses while any remain.</summary>
    Task<IReadOnlyList<GpuProcess>> GetRunningProcessesAsync(GpuDevice device, CancellationToken cancellationToken);

    /// <summary>Health events until cancelled. Backends without events yield nothing.</summary>
    IAsyncEnumerable<GpuHealthEvent> WatchHealthAsync(CancellationToken cancellationToken);

    /// <summary>Opens the device's memory for the scrubber. The caller disposes the session.</summary>
    Task<IDeviceMemorySession> OpenMemorySessionAsync(GpuDevice device, CancellationToken cancellationToken);
}
