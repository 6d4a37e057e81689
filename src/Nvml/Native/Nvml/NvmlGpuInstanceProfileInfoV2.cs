using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary>
/// <c>nvmlGpuInstanceProfileInfo_v2_t</c> (nvmlDeviceGetGpuInstanceProfileInfoV): eleven uints, 4 bytes of padding,
/// memorySizeMB at 48, the 96-byte name at 56; 152 bytes. <see cref="Version"/> must be <see cref="StructVersion"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct NvmlGpuInstanceProfileInfoV2
{
    /// <summary>NVML_STRUCT_VERSION(GpuInstanceProfileInfo, 2) = sizeof | (2 &lt;&lt; 24).</summary>
    public const uint StructVersion = 152u | (2u << 24);

    public uint Version;
    public uint Id;
    public uint IsP2pSupported;
    public uint SliceCount;
    public uint InstanceCount;
    public uint MultiprocessorCount;
    public uint CopyEngineCount;
    public uint DecoderCount;
    public uint EncoderCount;
    public uint JpegCount;
    public uint OfaCount;
    public ulong MemorySizeMB;
    public fixed byte Name[NvmlStrings.DeviceNameBufferSize];

    public readonly string NameString
    {
        get
        {
            fixed (byte* p = Name)
            {
                return NvmlStrings.FromBuffer(new ReadOnlySpan<byte>(p, NvmlStrings.DeviceNameBufferSize));
            }
        }
    }
}
