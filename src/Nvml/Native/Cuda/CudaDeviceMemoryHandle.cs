using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Cuda;

/// <summary>A <c>CUdeviceptr</c> from cuMemAlloc_v2; freed with cuMemFree_v2.</summary>
public sealed class CudaDeviceMemoryHandle : SafeHandle
{
    public CudaDeviceMemoryHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    internal CudaDeviceMemoryHandle(ulong devicePointer, long bytes) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle((nint)devicePointer);
        Bytes = bytes;
    }

    public long Bytes { get; }

    public ulong DevicePointer => (ulong)handle;

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => CudaNative.MemFree((ulong)handle) == CudaResult.Success;
}
