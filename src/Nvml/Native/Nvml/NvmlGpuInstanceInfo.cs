using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary><c>nvmlGpuInstanceInfo_t</c>: parent device handle, instance id, profile id, placement; 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NvmlGpuInstanceInfo
{
    public nint Device;
    public uint Id;
    public uint ProfileId;
    public NvmlGpuInstancePlacement Placement;
}
