using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary>Raw MIG and confidential-computing entry points (nvml.h of go-nvml; line numbers in shared/reference/proxy-and-mig.md B).</summary>
internal static unsafe partial class NvmlNative
{
    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetGpuInstanceProfileInfoV")]
    public static partial NvmlReturn DeviceGetGpuInstanceProfileInfoV(nint device, uint profile, NvmlGpuInstanceProfileInfoV2* info);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetGpuInstancePossiblePlacements_v2")]
    public static partial NvmlReturn DeviceGetGpuInstancePossiblePlacements(nint device, uint profileId, NvmlGpuInstancePlacement* placements, uint* count);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceCreateGpuInstanceWithPlacement")]
    public static partial NvmlReturn DeviceCreateGpuInstanceWithPlacement(nint device, uint profileId, NvmlGpuInstancePlacement* placement, nint* gpuInstance);

    [LibraryImport(LibraryName, EntryPoint = "nvmlGpuInstanceDestroy")]
    public static partial NvmlReturn GpuInstanceDestroy(nint gpuInstance);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetGpuInstances")]
    public static partial NvmlReturn DeviceGetGpuInstances(nint device, uint profileId, nint* gpuInstances, uint* count);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetGpuInstanceById")]
    public static partial NvmlReturn DeviceGetGpuInstanceById(nint device, uint id, nint* gpuInstance);

    [LibraryImport(LibraryName, EntryPoint = "nvmlGpuInstanceGetInfo")]
    public static partial NvmlReturn GpuInstanceGetInfo(nint gpuInstance, NvmlGpuInstanceInfo* info);

    [LibraryImport(LibraryName, EntryPoint = "nvmlGpuInstanceGetComputeInstanceProfileInfoV")]
    public static partial NvmlReturn GpuInstanceGetComputeInstanceProfileInfoV(nint gpuInstance, uint profile, uint engProfile, NvmlComputeInstanceProfileInfoV2* info);

    [LibraryImport(LibraryName, EntryPoint = "nvmlGpuInstanceCreateComputeInstance")]
    public static partial NvmlReturn GpuInstanceCreateComputeInstance(nint gpuInstance, uint profileId, nint* computeInstance);

    [LibraryImport(LibraryName, EntryPoint = "nvmlGpuInstanceGetComputeInstances")]
    public static partial NvmlReturn GpuInstanceGetComputeInstances(nint gpuInstance, uint profileId, nint* computeInstances, uint* count);

    [LibraryImport(LibraryName, EntryPoint = "nvmlComputeInstanceGetInfo_v2")]
    public static partial NvmlReturn ComputeInstanceGetInfo(nint computeInstance, NvmlComputeInstanceInfo* info);

    [LibraryImport(LibraryName, EntryPoint = "nvmlComputeInstanceDestroy")]
    public static partial NvmlReturn ComputeInstanceDestroy(nint computeInstance);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetMaxMigDeviceCount")]
    public static partial NvmlReturn DeviceGetMaxMigDeviceCount(nint device, uint* count);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetMigDeviceHandleByIndex")]
    public static partial NvmlReturn DeviceGetMigDeviceHandleByIndex(nint device, uint index, nint* migDevice);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetGpuInstanceId")]
    public static partial NvmlReturn DeviceGetGpuInstanceId(nint device, uint* id);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetComputeInstanceId")]
    public static partial NvmlReturn DeviceGetComputeInstanceId(nint device, uint* id);

    [LibraryImport(LibraryName, EntryPoint = "nvmlSystemGetConfComputeState")]
    public static partial NvmlReturn SystemGetConfComputeState(NvmlConfComputeSystemState* state);

    [LibraryImport(LibraryName, EntryPoint = "nvmlSystemGetConfComputeSettings")]
    public static partial NvmlReturn SystemGetConfComputeSettings(NvmlSystemConfComputeSettings* settings);

    [LibraryImport(LibraryName, EntryPoint = "nvmlSystemGetConfComputeGpusReadyState")]
    public static partial NvmlReturn SystemGetConfComputeGpusReadyState(uint* isAcceptingWork);
}
