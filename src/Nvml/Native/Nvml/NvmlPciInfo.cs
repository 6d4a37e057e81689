using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary><c>nvmlPciInfo_t</c> (the v3 layout filled by nvmlDeviceGetPciInfo_v3): 68 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct NvmlPciInfo
{
    public const int BusIdLegacySize = 16; // NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE
    public const int BusIdSize = 32;       // NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE

    public fixed byte BusIdLegacy[BusIdLegacySize];
    public uint Domain;
    public uint Bus;
    public uint Device;
    public uint PciDeviceId;
    public uint PciSubSystemId;
    public fixed byte BusId[BusIdSize];

    public readonly string BusIdString
    {
        get
        {
            fixed (byte* p = BusId)
            {
                return NvmlStrings.FromBuffer(new ReadOnlySpan<byte>(p, BusIdSize));
            }
        }
    }
}
