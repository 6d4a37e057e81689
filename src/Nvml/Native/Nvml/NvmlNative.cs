using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary>Raw NVML entry points. Use <see cref="NvmlLibrary"/>, which turns return codes into typed errors.</summary>
internal static unsafe partial class NvmlNative
{
    public const string LibraryName = "libnvidia-ml.so.1";

    [LibraryImport(LibraryName, EntryPoint = "nvmlInit_v2")]
    public static partial NvmlReturn Init();

    [LibraryImport(LibraryName, EntryPoint = "nvmlShutdown")]
    public static partial NvmlReturn Shutdown();

    [LibraryImport(LibraryName, EntryPoint = "nvmlErrorString")]
    public static partial byte* ErrorString(NvmlReturn result);

    [LibraryImport(LibraryName, EntryPoint = "nvmlSystemGetDriverVersion")]
    public static partial NvmlReturn SystemGetDriverVersion(byte* version, uint length);

    [LibraryImport(LibraryName, EntryPoint = "nvmlSystemGetCudaDriverVersion_v2")]
    public static partial NvmlReturn SystemGetCudaDriverVersion(int* cudaDriverVersion);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetCount_v2")]
    public static partial NvmlReturn DeviceGetCount(uint* deviceCount);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetHandleByIndex_v2")]
    public static partial NvmlReturn DeviceGetHandleByIndex(uint index, nint* device);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetHandleByUUID")]
    public static partial NvmlReturn DeviceGetHandleByUuid(byte* uuid, nint* device);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetName")]
    public static partial NvmlReturn DeviceGetName(nint device, byte* name, uint length);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetUUID")]
    public static partial NvmlReturn DeviceGetUuid(nint device, byte* uuid, uint length);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetMinorNumber")]
    public static partial NvmlReturn DeviceGetMinorNumber(nint device, uint* minorNumber);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetPciInfo_v3")]
    public static partial NvmlReturn DeviceGetPciInfo(nint device, NvmlPciInfo* pci);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetMemoryInfo_v2")]
    public static partial NvmlReturn DeviceGetMemoryInfoV2(nint device, NvmlMemoryV2* memory);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetMemoryInfo")]
    public static partial NvmlReturn DeviceGetMemoryInfo(nint device, NvmlMemory* memory);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetCudaComputeCapability")]
    public static partial NvmlReturn DeviceGetCudaComputeCapability(nint device, int* major, int* minor);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetArchitecture")]
    public static partial NvmlReturn DeviceGetArchitecture(nint device, uint* arch);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetBrand")]
    public static partial NvmlReturn DeviceGetBrand(nint device, int* type);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetMigMode")]
    public static partial NvmlReturn DeviceGetMigMode(nint device, uint* currentMode, uint* pendingMode);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetComputeRunningProcesses_v3")]
    public static partial NvmlReturn DeviceGetComputeRunningProcesses(nint device, uint* infoCount, NvmlProcessInfo* infos);

    [LibraryImport(LibraryName, EntryPoint = "nvmlEventSetCreate")]
    public static partial NvmlReturn EventSetCreate(nint* set);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceRegisterEvents")]
    public static partial NvmlReturn DeviceRegisterEvents(nint device, ulong eventTypes, nint set);

    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetSupportedEventTypes")]
    public static partial NvmlReturn DeviceGetSupportedEventTypes(nint device, ulong* eventTypes);

    [LibraryImport(LibraryName, EntryPoint = "nvmlEventSetWait_v2")]
    public static partial NvmlReturn EventSetWait(nint set, NvmlEventData* data, uint timeoutMs);

    [LibraryImport(LibraryName, EntryPoint = "nvmlEventSetFree")]
    public static partial NvmlReturn EventSetFree(nint set);
}
