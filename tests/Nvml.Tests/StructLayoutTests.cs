using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SecureDra.Nvml.Native.Cuda;
using SecureDra.Nvml.Native.Nvml;

namespace SecureDra.Nvml.Tests;

/// <summary>Sizes and offsets as nvml.h / cuda.h define them on x86-64 Linux (LP64).</summary>
public class StructLayoutTests
{
    [Fact]
    public void NvmlPciInfo_MatchesNvmlH()
    {
        Assert.Equal(68, Unsafe.SizeOf<NvmlPciInfo>());
        Assert.Equal(68, Marshal.SizeOf<NvmlPciInfo>());
        Assert.Equal(0, Offset<NvmlPciInfo>(nameof(NvmlPciInfo.BusIdLegacy)));
        Assert.Equal(16, Offset<NvmlPciInfo>(nameof(NvmlPciInfo.Domain)));
        Assert.Equal(20, Offset<NvmlPciInfo>(nameof(NvmlPciInfo.Bus)));
        Assert.Equal(24, Offset<NvmlPciInfo>(nameof(NvmlPciInfo.Device)));
        Assert.Equal(28, Offset<NvmlPciInfo>(nameof(NvmlPciInfo.PciDeviceId)));
        Assert.Equal(32, Offset<NvmlPciInfo>(nameof(NvmlPciInfo.PciSubSystemId)));
        Assert.Equal(36, Offset<NvmlPciInfo>(nameof(NvmlPciInfo.BusId)));
    }

    [Fact]
    public unsafe void NvmlPciInfo_BusIdString_StopsAtNul()
    {
        var info = default(NvmlPciInfo);
        var text = "00000000:17:00.0"u8;
        for (var i = 0; i < text.Length; i++)
        {
            info.BusId[i] = text[i];
        }

        Assert.Equal("00000000:17:00.0", info.BusIdString);
    }

    [Fact]
    public void NvmlMemoryV2_MatchesNvmlH()
    {
        Assert.Equal(40, Marshal.SizeOf<NvmlMemoryV2>());
        Assert.Equal(0, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Version)));
        Assert.Equal(8, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Total)));
        Assert.Equal(16, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Reserved)));
        Assert.Equal(24, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Free)));
        Assert.Equal(32, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Used)));
        // NVML_STRUCT_VERSION(Memory, 2) = sizeof(nvmlMemory_v2_t) | (2 << 24)
        Assert.Equal(0x02000028u, NvmlMemoryV2.StructVersion);
        Assert.True(((uint)Marshal.SizeOf<NvmlMemoryV2>() | (2u << 24)) == NvmlMemoryV2.StructVersion);
    }

    [Fact]
    public void NvmlMemory_MatchesNvmlH()
    {
        Assert.Equal(24, Marshal.SizeOf<NvmlMemory>());
        Assert.Equal(8, Offset<NvmlMemory>(nameof(NvmlMemory.Free)));
        Assert.Equal(16, Offset<NvmlMemory>(nameof(NvmlMemory.Used)));
    }

    [Fact]
    public void NvmlProcessInfo_MatchesNvmlH()
    {
        Assert.Equal(24, Marshal.SizeOf<NvmlProcessInfo>());
        Assert.Equal(0, Offset<NvmlProcessInfo>(nameof(NvmlProcessInfo.Pid)));
        Assert.Equal(8, Offset<NvmlProcessInfo>(nameof(NvmlProcessInfo.UsedGpuMemory)));
        Assert.Equal(16, Offset<NvmlProcessInfo>(nameof(NvmlProcessInfo.GpuInstanceId)));
        Assert.Equal(20, Offset<NvmlProcessInfo>(nameof(NvmlProcessInfo.ComputeInstanceId)));
    }

    [Fact]
    public void NvmlEventData_MatchesNvmlH()
    {
        Assert.Equal(32, Marshal.SizeOf<NvmlEventData>());
        Assert.Equal(0, Offset<NvmlEventData>(nameof(NvmlEventData.Device)));
        Assert.Equal(8, Offset<NvmlEventData>(nameof(NvmlEventData.EventType)));
        Assert.Equal(16, Offset<NvmlEventData>(nameof(NvmlEventData.EventData)));
        Assert.Equal(24, Offset<NvmlEventData>(nameof(NvmlEventData.GpuInstanceId)));
        Assert.Equal(28, Offset<NvmlEventData>(nameof(NvmlEventData.ComputeInstanceId)));
    }

    [Fact]
    public void NvmlConstants_MatchNvmlH()
    {
        Assert.Equal(0x8UL, NvmlEventTypes.XidCriticalError);
        Assert.Equal(0x2UL, NvmlEventTypes.DoubleBitEccError);
        Assert.Equal(0x1UL, NvmlEventTypes.SingleBitEccError);
        Assert.Equal(9, (int)NvmlReturn.DriverNotLoaded);
        Assert.Equal(7, (int)NvmlReturn.InsufficientSize);
        Assert.Equal(15, (int)NvmlReturn.GpuIsLost);
        Assert.Equal(96, NvmlStrings.DeviceUuidBufferSize);
        Assert.Equal(80, NvmlStrings.DriverVersionBufferSize);
    }

    [Fact]
    public void CudaTypes_MatchCudaH()
    {
        Assert.Equal(16, Marshal.SizeOf<CudaUuid>());
        Assert.Equal(100, (int)CudaResult.NoDevice);
        Assert.Equal(2, (int)CudaResult.OutOfMemory);
        Assert.Equal(16, (int)CudaDeviceAttribute.MultiprocessorCount);
        Assert.Equal(8, IntPtr.Size); // CUdeviceptr is 64-bit on LP64
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
