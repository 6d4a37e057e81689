using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Cuda;

/// <summary>A <c>CUstream</c>; destroyed with cuStreamDestroy_v2.</summary>
public sealed class CudaStreamHandle : SafeHandle
{
    public CudaStreamHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    internal CudaStreamHandle(nint stream) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(stream);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => CudaNative.StreamDestroy(handle) == CudaResult.Success;
}
