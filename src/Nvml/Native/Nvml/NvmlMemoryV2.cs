using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary><c>nvmlMemory_v2_t</c>: a versioned struct, 40 bytes (the version word is padded to 8).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NvmlMemoryV2
{
    /// <summary><c>nvmlMemory_v2 = NVML_STRUCT_VERSION(Memory, 2) = sizeof(nvmlMemory_v2_t) | 2 &lt;&lt; 24</c>.</summary>
    public const uint StructVersion = 40u | (2u << 24);

    public uint Version;
    public ulong Total;
    public ulong Reserved;
    public ulong Free;
    public ulong Used;
}
