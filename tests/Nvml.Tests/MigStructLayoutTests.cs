using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SecureDra.Nvml.Native.Nvml;

namespace SecureDra.Nvml.Tests;

/// <summary>MIG and confidential-computing structs as go-nvml's gen/nvml/nvml.h defines them on x86-64 Linux (LP64).</summary>
public class MigStructLayoutTests
{
    [Fact]
    public void GpuInstancePlacement_IsTwoUints()
    {
        Assert.Equal(8, Marshal.SizeOf<NvmlGpuInstancePlacement>());
        Assert.Equal(0, Offset<NvmlGpuInstancePlacement>(nameof(NvmlGpuInstancePlacement.Start)));
        Assert.Equal(4, Offset<NvmlGpuInstancePlacement>(nameof(NvmlGpuInstancePlacement.Size)));
    }

    [Fact]
    public void GpuInstanceProfileInfoV2_MatchesNvmlH()
    {
        Assert.Equal(152, Unsafe.SizeOf<NvmlGpuInstanceProfileInfoV2>());
        Assert.Equal(152, Marshal.SizeOf<NvmlGpuInstanceProfileInfoV2>());
        Assert.Equal(0, Offset<NvmlGpuInstanceProfileInfoV2>(nameof(NvmlGpuInstanceProfileInfoV2.Version)));
        Assert.Equal(4, Offset<NvmlGpuInstanceProfileInfoV2>(nameof(NvmlGpuInstanceProfileInfoV2.Id)));
        Assert.Equal(12, Offset<NvmlGpuInstanceProfileInfoV2>(nameof(NvmlGpuInstanceProfileInfoV2.SliceCount)));
        Assert.Equal(16, Offset<NvmlGpuInstanceProfileInfoV2>(nameof(NvmlGpuInstanceProfileInfoV2.InstanceCount)));
        Assert.Equal(20, Offset<NvmlGpuInstanceProfileInfoV2>(nameof(NvmlGpuInstanceProfileInfoV2.MultiprocessorCount)));
        Assert.Equal(40, Offset<NvmlGpuInstanceProfileInfoV2>(nameof(NvmlGpuInstanceProfileInfoV2.OfaCount)));
        Assert.Equal(48, Offset<NvmlGpuInstanceProfileInfoV2>(nameof(NvmlGpuInstanceProfileInfoV2.MemorySizeMB)));
        Assert.Equal(56, Offset<NvmlGpuInstanceProfileInfoV2>(nameof(NvmlGpuInstanceProfileInfoV2.Name)));
        // NVML_STRUCT_VERSION(GpuInstanceProfileInfo, 2) = sizeof | (2 << 24)
        Assert.Equal(0x02000098u, NvmlGpuInstanceProfileInfoV2.StructVersion);
    }

    [Fact]
    public unsafe void GpuInstanceProfileInfoV2_NameStopsAtNul()
    {
        var info = default(NvmlGpuInstanceProfileInfoV2);
        var text = "MIG 1g.10gb"u8;
        for (var i = 0; i < text.Length; i++)
        {
            info.Name[i] = text[i];
        }

        Assert.Equal("MIG 1g.10gb", info.NameString);
        Assert.Equal("1g.10gb", SecureDra.Nvml.Backends.Nvidia.NvidiaMigBackend.ProfileName(info.NameString));
    }

    [Fact]
    public void GpuInstanceInfo_MatchesNvmlH()
    {
        Assert.Equal(24, Marshal.SizeOf<NvmlGpuInstanceInfo>());
        Assert.Equal(0, Offset<NvmlGpuInstanceInfo>(nameof(NvmlGpuInstanceInfo.Device)));
        Assert.Equal(8, Offset<NvmlGpuInstanceInfo>(nameof(NvmlGpuInstanceInfo.Id)));
        Assert.Equal(12, Offset<NvmlGpuInstanceInfo>(nameof(NvmlGpuInstanceInfo.ProfileId)));
        Assert.Equal(16, Offset<NvmlGpuInstanceInfo>(nameof(NvmlGpuInstanceInfo.Placement)));
    }

    [Fact]
    public void ComputeInstanceProfileInfoV2_MatchesNvmlH()
    {
        Assert.Equal(136, Marshal.SizeOf<NvmlComputeInstanceProfileInfoV2>());
        Assert.Equal(4, Offset<NvmlComputeInstanceProfileInfoV2>(nameof(NvmlComputeInstanceProfileInfoV2.Id)));
        Assert.Equal(36, Offset<NvmlComputeInstanceProfileInfoV2>(nameof(NvmlComputeInstanceProfileInfoV2.SharedOfaCount)));
        Assert.Equal(40, Offset<NvmlComputeInstanceProfileInfoV2>(nameof(NvmlComputeInstanceProfileInfoV2.Name)));
        Assert.Equal(0x02000088u, NvmlComputeInstanceProfileInfoV2.StructVersion);
    }

    [Fact]
    public void ComputeInstanceInfo_MatchesNvmlH()
    {
        Assert.Equal(32, Marshal.SizeOf<NvmlComputeInstanceInfo>());
        Assert.Equal(8, Offset<NvmlComputeInstanceInfo>(nameof(NvmlComputeInstanceInfo.GpuInstance)));
        Assert.Equal(16, Offset<NvmlComputeInstanceInfo>(nameof(NvmlComputeInstanceInfo.Id)));
        Assert.Equal(20, Offset<NvmlComputeInstanceInfo>(nameof(NvmlComputeInstanceInfo.ProfileId)));
        Assert.Equal(24, Offset<NvmlComputeInstanceInfo>(nameof(NvmlComputeInstanceInfo.PlacementStart)));
        Assert.Equal(28, Offset<NvmlComputeInstanceInfo>(nameof(NvmlComputeInstanceInfo.PlacementSize)));
    }

    [Fact]
    public void ConfComputeStructs_MatchNvmlH()
    {
        Assert.Equal(12, Marshal.SizeOf<NvmlConfComputeSystemState>());
        Assert.Equal(8, Offset<NvmlConfComputeSystemState>(nameof(NvmlConfComputeSystemState.DevToolsMode)));
        Assert.Equal(20, Marshal.SizeOf<NvmlSystemConfComputeSettings>());
        Assert.Equal(16, Offset<NvmlSystemConfComputeSettings>(nameof(NvmlSystemConfComputeSettings.MultiGpuMode)));
        Assert.Equal(0x01000014u, NvmlSystemConfComputeSettings.StructVersion);
    }

    [Fact]
    public void HandleArrays_AreArraysOfPointers()
    {
        // nvmlDeviceGetGpuInstances and nvmlGpuInstanceGetComputeInstances fill arrays of opaque pointers.
        Assert.Equal(IntPtr.Size, Unsafe.SizeOf<NvmlGpuInstanceHandle>());
        Assert.Equal(IntPtr.Size, Unsafe.SizeOf<NvmlComputeInstanceHandle>());
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
