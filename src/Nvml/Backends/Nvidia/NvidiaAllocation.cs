using SecureDra.Nvml.Native.Cuda;

namespace SecureDra.Nvml.Backends.Nvidia;

/// <summary>A cuMemAlloc_v2 block; freeing needs the owning context current, which the session ensures.</summary>
internal sealed class NvidiaAllocation(NvidiaMemorySession session, CudaDeviceMemoryHandle memory) : IDeviceAllocation
{
    public CudaDeviceMemoryHandle Memory { get; } = memory;

    public long Bytes => Memory.Bytes;

    public void Dispose()
    {
        if (!Memory.IsClosed)
        {
            try
            {
                session.MakeCurrent();
            }
            finally
            {
                // Release even when the context could not be made current: the handle must not leak.
                Memory.Dispose();
            }
        }
    }
}
