using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary><c>nvmlComputeInstanceInfo_t</c>: parent device and GPU instance handles, id, profile id, compute placement; 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NvmlComputeInstanceInfo
{
    public nint Device;
    public nint GpuInstance;
    public uint Id;
    public uint ProfileId;
    public uint PlacementStart;
    public uint PlacementSize;
}
