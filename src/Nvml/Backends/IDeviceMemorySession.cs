namespace SecureDra.Nvml.Backends;

/// <summary>
/// Device-memory operations the scrubber needs, on one device: a CUDA context on NVIDIA, the
/// mapped VRAM file on the simulated backend. Not thread-safe; one scrub owns a session.
/// </summary>
public interface IDeviceMemorySession : IAsyncDisposable
{
    /// <summary>Free and total device memory as the device reports it now.</summary>
    (long FreeBytes, long TotalBytes) GetMemoryInfo();

    /// <summary>Allocates <paramref name="bytes"/>; returns null on out-of-memory (the scrubber halves and retries).</summary>
    IDeviceAllocation? TryAllocate(long bytes);

    /// <summary>Sets every byte of the allocation to zero.</summary>
    void Zero(IDeviceAllocation allocation);

    /// <summary>True when every byte of the allocation reads back as zero (on-device kernel on NVIDIA).</summary>
    bool VerifyZero(IDeviceAllocation allocation);

    /// <summary>Waits for queued work on the device to finish.</summary>
    void Synchronize();

    /// <summary>
    /// The smallest amount of memory the device hands out (4 KiB pages of the simulated mapping; 2 MiB
    /// pages on NVIDIA). The scrubber halves its requests down to this size, so what it leaves free is
    /// less than one granule, which no one else can allocate either; it is the scrub's tolerance.
    /// </summary>
    long AllocationGranularity => 4096;

    /// <summary>A short name for the method used, e.g. "cuMemsetD32+ptx-or-reduce" or "mmap-memset+readback".</summary>
    string Method { get; }
}

/// <summary>One device allocation; disposing it frees the memory.</summary>
public interface IDeviceAllocation : IDisposable
{
    long Bytes { get; }
}
