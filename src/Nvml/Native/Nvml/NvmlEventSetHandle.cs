using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary>An <c>nvmlEventSet_t</c>; released with nvmlEventSetFree.</summary>
public sealed class NvmlEventSetHandle : SafeHandle
{
    public NvmlEventSetHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    internal NvmlEventSetHandle(nint handle) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => NvmlNative.EventSetFree(handle) == NvmlReturn.Success;
}
