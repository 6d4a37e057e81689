using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary><c>nvmlSystemConfComputeSettings_v1_t</c>: version, environment, ccFeature, devToolsMode, multiGpuMode; 20 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NvmlSystemConfComputeSettings
{
    /// <summary>NVML_STRUCT_VERSION(SystemConfComputeSettings, 1) = sizeof | (1 &lt;&lt; 24).</summary>
    public const uint StructVersion = 20u | (1u << 24);

    public uint Version;
    public uint Environment;
    public uint CcFeature;
    public uint DevToolsMode;
    public uint MultiGpuMode;
}
