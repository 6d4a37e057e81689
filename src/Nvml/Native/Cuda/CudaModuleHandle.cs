using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Cuda;

/// <summary>A loaded <c>CUmodule</c>; unloaded with cuModuleUnload (its context must still be alive).</summary>
public sealed class CudaModuleHandle : SafeHandle
{
    public CudaModuleHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    internal CudaModuleHandle(nint module) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(module);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => CudaNative.ModuleUnload(handle) == CudaResult.Success;
}
