using System.Text;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary>NVML fills fixed char buffers with NUL-terminated UTF-8.</summary>
public static class NvmlStrings
{
    public const int DeviceNameBufferSize = 96;     // NVML_DEVICE_NAME_V2_BUFFER_SIZE
    public const int DeviceUuidBufferSize = 96;     // NVML_DEVICE_UUID_V2_BUFFER_SIZE
    public const int DriverVersionBufferSize = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE
    public const int PciBusIdBufferSize = 32;       // NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE

    public static string FromBuffer(ReadOnlySpan<byte> buffer)
    {
        var end = buffer.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? buffer : buffer[..end]);
    }
}
