using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native.Cuda;

internal static unsafe partial class CudaNative
{
    /// <summary>cuDeviceGetUuid_v2: for a MIG device, the MIG instance's UUID (the v1 call returns the parent's).</summary>
    [LibraryImport(LibraryName, EntryPoint = "cuDeviceGetUuid_v2")]
    public static partial CudaResult DeviceGetUuidV2(CudaUuid* uuid, int device);
}
