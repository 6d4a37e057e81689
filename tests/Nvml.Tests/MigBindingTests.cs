using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Nvidia;
using SecureDra.Nvml.Native;
using SecureDra.Nvml.Native.Nvml;

namespace SecureDra.Nvml.Tests;

/// <summary>
/// Every MIG and confidential-computing binding against Debian's real libnvidia-ml.so.1 on a machine without a GPU:
/// the entry point resolves, the marshalled call returns NVML's exact code (UNINITIALIZED: no nvmlInit succeeded),
/// and a function this library predates is a clean typed error naming it.
/// </summary>
[Collection(NvidiaLibrariesCollection.Name)]
public class MigBindingTests(NvidiaLibrariesFixture libraries)
{
    private static readonly NvmlDeviceHandle NoDevice = new(0);

    [Fact]
    public void MigCalls_WithoutInit_ReturnUninitialized()
    {
        libraries.RequireLibraries();
        if (NvidiaLibrariesFixture.DriverLoaded)
        {
            return;
        }

        var placements = new NvmlGpuInstancePlacement[4];
        var gis = new NvmlGpuInstanceHandle[4];
        var cis = new NvmlComputeInstanceHandle[4];
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GetMigModeRaw(NoDevice, out _, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GetGpuInstanceProfileInfoRaw(NoDevice, 0, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GetGpuInstancePossiblePlacementsRaw(NoDevice, 19, placements, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.CreateGpuInstanceWithPlacementRaw(NoDevice, 19, new NvmlGpuInstancePlacement { Start = 0, Size = 1 }, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GpuInstanceDestroyRaw(default));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GetGpuInstancesRaw(NoDevice, 19, gis, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GetGpuInstanceByIdRaw(NoDevice, 1, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GpuInstanceGetInfoRaw(default, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GetComputeInstanceProfileInfoRaw(default, 0, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.CreateComputeInstanceRaw(default, 0, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GetComputeInstancesRaw(default, 0, cis, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.ComputeInstanceGetInfoRaw(default, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.ComputeInstanceDestroyRaw(default));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GetMaxMigDeviceCountRaw(NoDevice, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GetMigDeviceHandleByIndexRaw(NoDevice, 0, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GetGpuInstanceIdRaw(NoDevice, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GetComputeInstanceIdRaw(NoDevice, out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlMig.GetUuidRaw(NoDevice, out var uuid));
        Assert.Equal("", uuid);

        // The typed call names the function and carries NVML's text.
        var e = Assert.Throws<NvmlException>(() => NvmlMig.GetGpuInstances(NoDevice, 19));
        Assert.Equal("nvmlDeviceGetGpuInstances returned 1 (Uninitialized)", e.Message);
    }

    [Fact]
    public void ConfComputeCalls_WithoutInit_ReturnUninitialized_AndTheSettingsCallIsMissingFrom535()
    {
        libraries.RequireLibraries();
        if (NvidiaLibrariesFixture.DriverLoaded)
        {
            return;
        }

        Assert.Equal(NvmlReturn.Uninitialized, NvmlConfCompute.GetStateRaw(out _));
        Assert.Equal(NvmlReturn.Uninitialized, NvmlConfCompute.GetGpusReadyStateRaw(out _));

        // Debian's 535 predates nvmlSystemGetConfComputeSettings (added with multiGpuMode): a clean typed error, not a crash.
        if (Exported("nvmlSystemGetConfComputeSettings"))
        {
            Assert.Equal(NvmlReturn.Uninitialized, NvmlConfCompute.GetSettingsRaw(out _));
            return;
        }

        var e = Assert.Throws<NativeLibraryUnavailableException>(() => NvmlConfCompute.GetSettingsRaw(out _));
        Assert.Equal("nvmlSystemGetConfComputeSettings", e.EntryPoint);
        Assert.IsAssignableFrom<GpuBackendException>(e);
    }

    private static bool Exported(string function)
    {
        var library = System.Runtime.InteropServices.NativeLibrary.Load(NvmlLibrary.LibraryName);
        try
        {
            return System.Runtime.InteropServices.NativeLibrary.TryGetExport(library, function, out _);
        }
        finally
        {
            System.Runtime.InteropServices.NativeLibrary.Free(library);
        }
    }

    [Fact]
    public async Task NvidiaMigAndCcBackends_WithoutDriver_FailWithNoDriverMessage()
    {
        libraries.RequireLibraries();
        if (NvidiaLibrariesFixture.DriverLoaded)
        {
            return;
        }

        var device = new GpuDevice("gpu-0", 0, "GPU-00000000-0000-0000-0000-000000000000", "x", "x", "x", "9.0", "1.0.0", "12.2.0", "00000000:17:00.0", 0, 0, []);
        using var mig = new NvidiaMigBackend();
        var e = await Assert.ThrowsAsync<GpuBackendException>(() => mig.GetMigModeAsync(device, CancellationToken.None));
        Assert.StartsWith("no NVIDIA driver: nvmlInit_v2 returned 9 (Driver Not Loaded)", e.Message, StringComparison.Ordinal);
        e = await Assert.ThrowsAsync<GpuBackendException>(() => mig.CreateGpuInstanceAsync(device, 19, new MigPlacement(0, 1), CancellationToken.None));
        Assert.StartsWith("no NVIDIA driver", e.Message, StringComparison.Ordinal);

        using var cc = new NvidiaConfidentialComputeBackend();
        e = await Assert.ThrowsAsync<GpuBackendException>(() => cc.GetConfidentialComputeStateAsync(CancellationToken.None));
        Assert.StartsWith("no NVIDIA driver", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CudaUuidV2_WithoutDevice_IsNotInitialized()
    {
        libraries.RequireLibraries();
        if (NvidiaLibrariesFixture.DriverLoaded)
        {
            return;
        }

        Assert.Equal(SecureDra.Nvml.Native.Cuda.CudaResult.NoDevice, SecureDra.Nvml.Native.Cuda.CudaDriver.InitRaw());
        Assert.Equal(SecureDra.Nvml.Native.Cuda.CudaResult.NotInitialized, SecureDra.Nvml.Native.Cuda.CudaDeviceIdentity.GetUuidRaw(0, out var uuid, "MIG-"));
        Assert.Equal("", uuid);
        Assert.Equal("MIG-00112233-4455-6677-8899-aabbccddeeff",
            SecureDra.Nvml.Native.Cuda.CudaDeviceIdentity.Format([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF], "MIG-"));
    }

    [Fact]
    public async Task ScrubWorker_OnNvidiaWithoutDriver_FailsCleanlyWithAReport()
    {
        libraries.RequireLibraries();
        if (NvidiaLibrariesFixture.DriverLoaded)
        {
            return;
        }

        using var loggers = Microsoft.Extensions.Logging.LoggerFactory.Create(_ => { });
        var worker = new SecureDra.Nvml.Scrubbing.MigScrubWorker(new GpuBackendOptions(), TimeProvider.System, loggers);
        var request = new SecureDra.Nvml.Scrubbing.MigScrubWorkerRequest("MIG-00000000-0000-0000-0000-000000000001", "GPU-00000000-0000-0000-0000-000000000000", 1);
        var (exit, report) = await worker.RunAsync(request, request.InstanceUuid, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(SecureDra.Nvml.Scrubbing.MigScrubWorker.ExitFailed, exit);
        Assert.Equal("failed", report.Outcome);
        Assert.Equal("could not open the instance: cuInit returned 100 CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)", report.FailureReason);

        // Unset CUDA_VISIBLE_DEVICES is refused before CUDA is touched.
        (exit, report) = await worker.RunAsync(request, null, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(SecureDra.Nvml.Scrubbing.MigScrubWorker.ExitWrongDevice, exit);
        Assert.Equal("wrong-device", report.Outcome);
    }

    [Fact]
    public void NvmlCodes_MapToMigErrors()
    {
        Assert.Equal(MigErrorCode.InsufficientResources, MigException.Map(NvmlReturn.InsufficientResources));
        Assert.Equal(MigErrorCode.InUse, MigException.Map(NvmlReturn.InUse));
        Assert.Equal(MigErrorCode.NoPermission, MigException.Map(NvmlReturn.NoPermission));
        Assert.Equal(MigErrorCode.NotSupported, MigException.Map(NvmlReturn.NotSupported));
        Assert.Equal(MigErrorCode.NotFound, MigException.Map(NvmlReturn.NotFound));
        Assert.Equal(MigErrorCode.InvalidArgument, MigException.Map(NvmlReturn.InvalidArgument));
        Assert.Equal(MigErrorCode.Other, MigException.Map(NvmlReturn.GpuIsLost));
    }

    [Fact]
    public void ComputeProfileIndex_SpansTheWholeGpuInstance()
    {
        Assert.Equal(0x0u, NvidiaMigBackend.ComputeProfileIndex(1));
        Assert.Equal(0x1u, NvidiaMigBackend.ComputeProfileIndex(2));
        Assert.Equal(0x2u, NvidiaMigBackend.ComputeProfileIndex(3));
        Assert.Equal(0x3u, NvidiaMigBackend.ComputeProfileIndex(4));
        Assert.Equal(0x4u, NvidiaMigBackend.ComputeProfileIndex(7));
        Assert.Null(NvidiaMigBackend.ComputeProfileIndex(5));
    }
}
