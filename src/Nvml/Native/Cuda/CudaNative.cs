using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Cuda;

/// <summary>Raw CUDA driver-API entry points (libcuda.so.1). Use <see cref="CudaDriver"/>.</summary>
internal static unsafe partial class CudaNative
{
    public const string LibraryName = "libcuda.so.1";

    [LibraryImport(LibraryName, EntryPoint = "cuInit")]
    public static partial CudaResult Init(uint flags);

    [LibraryImport(LibraryName, EntryPoint = "cuDriverGetVersion")]
    public static partial CudaResult DriverGetVersion(int* version);

    [LibraryImport(LibraryName, EntryPoint = "cuGetErrorName")]
    public static partial CudaResult GetErrorName(CudaResult error, byte** name);

    [LibraryImport(LibraryName, EntryPoint = "cuGetErrorString")]
    public static partial CudaResult GetErrorString(CudaResult error, byte** text);

    [LibraryImport(LibraryName, EntryPoint = "cuDeviceGetCount")]
    public static partial CudaResult DeviceGetCount(int* count);

    [LibraryImport(LibraryName, EntryPoint = "cuDeviceGetByPCIBusId")]
    public static partial CudaResult DeviceGetByPciBusId(int* device, byte* pciBusId);

    [LibraryImport(LibraryName, EntryPoint = "cuDeviceGetAttribute")]
    public static partial CudaResult DeviceGetAttribute(int* value, int attribute, int device);

    [LibraryImport(LibraryName, EntryPoint = "cuDevicePrimaryCtxRetain")]
    public static partial CudaResult DevicePrimaryCtxRetain(nint* context, int device);

    [LibraryImport(LibraryName, EntryPoint = "cuDevicePrimaryCtxRelease_v2")]
    public static partial CudaResult DevicePrimaryCtxRelease(int device);

    [LibraryImport(LibraryName, EntryPoint = "cuCtxSetCurrent")]
    public static partial CudaResult CtxSetCurrent(nint context);

    [LibraryImport(LibraryName, EntryPoint = "cuMemGetInfo_v2")]
    public static partial CudaResult MemGetInfo(nuint* free, nuint* total);

    [LibraryImport(LibraryName, EntryPoint = "cuMemAlloc_v2")]
    public static partial CudaResult MemAlloc(ulong* devicePointer, nuint bytes);

    [LibraryImport(LibraryName, EntryPoint = "cuMemFree_v2")]
    public static partial CudaResult MemFree(ulong devicePointer);

    [LibraryImport(LibraryName, EntryPoint = "cuMemsetD32Async")]
    public static partial CudaResult MemsetD32Async(ulong devicePointer, uint value, nuint count, nint stream);

    [LibraryImport(LibraryName, EntryPoint = "cuMemsetD8Async")]
    public static partial CudaResult MemsetD8Async(ulong devicePointer, byte value, nuint count, nint stream);

    [LibraryImport(LibraryName, EntryPoint = "cuMemcpyDtoH_v2")]
    public static partial CudaResult MemcpyDtoH(void* destination, ulong source, nuint bytes);

    [LibraryImport(LibraryName, EntryPoint = "cuMemcpyHtoD_v2")]
    public static partial CudaResult MemcpyHtoD(ulong destination, void* source, nuint bytes);

    [LibraryImport(LibraryName, EntryPoint = "cuStreamCreate")]
    public static partial CudaResult StreamCreate(nint* stream, uint flags);

    [LibraryImport(LibraryName, EntryPoint = "cuStreamSynchronize")]
    public static partial CudaResult StreamSynchronize(nint stream);

    [LibraryImport(LibraryName, EntryPoint = "cuStreamDestroy_v2")]
    public static partial CudaResult StreamDestroy(nint stream);

    [LibraryImport(LibraryName, EntryPoint = "cuModuleLoadData")]
    public static partial CudaResult ModuleLoadData(nint* module, void* image);

    [LibraryImport(LibraryName, EntryPoint = "cuModuleUnload")]
    public static partial CudaResult ModuleUnload(nint module);

    [LibraryImport(LibraryName, EntryPoint = "cuModuleGetFunction")]
    public static partial CudaResult ModuleGetFunction(nint* function, nint module, byte* name);

    [LibraryImport(LibraryName, EntryPoint = "cuLaunchKernel")]
    public static partial CudaResult LaunchKernel(
        nint function,
        uint gridDimX, uint gridDimY, uint gridDimZ,
        uint blockDimX, uint blockDimY, uint blockDimZ,
        uint sharedMemBytes, nint stream, void** kernelParams, void** extra);
}
