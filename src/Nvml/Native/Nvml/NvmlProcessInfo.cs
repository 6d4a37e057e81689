using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary>
/// <c>nvmlProcessInfo_t</c> as nvmlDeviceGetComputeRunningProcesses_v3 fills it (same layout as
/// <c>nvmlProcessInfo_v2_t</c>): 24 bytes, pid padded to 8.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct NvmlProcessInfo
{
    /// <summary>usedGpuMemory when the driver cannot tell (NVML_VALUE_NOT_AVAILABLE).</summary>
    public const ulong ValueNotAvailable = ulong.MaxValue;

    public uint Pid;
    public ulong UsedGpuMemory;
    public uint GpuInstanceId;
    public uint ComputeInstanceId;
}
