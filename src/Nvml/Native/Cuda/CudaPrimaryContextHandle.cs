using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Cuda;

/// <summary>
/// A retained primary context of one CUDA device; releasing it calls cuDevicePrimaryCtxRelease_v2.
/// The primary context is the one every process shares on a device, so a scrub never leaves a
/// private context (and its reserved memory) behind.
/// </summary>
public sealed class CudaPrimaryContextHandle : SafeHandle
{
    public CudaPrimaryContextHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    internal CudaPrimaryContextHandle(nint context, int device) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(context);
        Device = device;
    }

    public int Device { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => CudaNative.DevicePrimaryCtxRelease(Device) == CudaResult.Success;
}
