using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary>
/// <c>nvmlComputeInstanceProfileInfo_v2_t</c> (nvmlGpuInstanceGetComputeInstanceProfileInfoV): ten uints then the
/// 96-byte name; 136 bytes. <see cref="Version"/> must be <see cref="StructVersion"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct NvmlComputeInstanceProfileInfoV2
{
    /// <summary>NVML_STRUCT_VERSION(ComputeInstanceProfileInfo, 2) = sizeof | (2 &lt;&lt; 24).</summary>
    public const uint StructVersion = 136u | (2u << 24);

    public uint Version;
    public uint Id;
    public uint SliceCount;
    public uint InstanceCount;
    public uint MultiprocessorCount;
    public uint SharedCopyEngineCount;
    public uint SharedDecoderCount;
    public uint SharedEncoderCount;
    public uint SharedJpegCount;
    public uint SharedOfaCount;
    public fixed byte Name[NvmlStrings.DeviceNameBufferSize];
}
