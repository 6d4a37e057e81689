using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Cuda;

/// <summary><c>CUuuid</c>: 16 raw bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct CudaUuid
{
    public fixed byte Bytes[16];
}
