using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary><c>nvmlGpuInstancePlacement_t</c>: 8 bytes, the first memory slice and the number of slices.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NvmlGpuInstancePlacement
{
    public uint Start;
    public uint Size;
}
