using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary><c>nvmlConfComputeSystemState_t</c>: environment, ccFeature, devToolsMode; 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NvmlConfComputeSystemState
{
    public uint Environment;
    public uint CcFeature;
    public uint DevToolsMode;
}
