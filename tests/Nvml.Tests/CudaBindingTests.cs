using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Nvidia;
using SecureDra.Nvml.Native;
using SecureDra.Nvml.Native.Cuda;

namespace SecureDra.Nvml.Tests;

/// <summary>The CUDA driver-API bindings against the real libcuda.so.1 on a machine without a GPU.</summary>
[Collection(NvidiaLibrariesCollection.Name)]
public class CudaBindingTests(NvidiaLibrariesFixture libraries)
{
    [Fact]
    public void DriverGetVersion_SucceedsWithoutDevice()
    {
        libraries.RequireLibraries();
        var version = CudaDriver.GetDriverVersion();
        Assert.InRange(version, 10000, 99990);
        Assert.Equal(0, version % 10);
    }

    [Fact]
    public void ErrorNameAndString_Marshal()
    {
        libraries.RequireLibraries();
        Assert.Equal("CUDA_SUCCESS", CudaDriver.GetErrorName(CudaResult.Success));
        Assert.Equal("CUDA_ERROR_NO_DEVICE", CudaDriver.GetErrorName(CudaResult.NoDevice));
        Assert.Equal("no CUDA-capable device is detected", CudaDriver.GetErrorString(CudaResult.NoDevice));
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", CudaDriver.GetErrorName(CudaResult.OutOfMemory));
        // An unknown code: cuGetErrorName fails, and the binding says so instead of reading a null pointer.
        Assert.Equal("CUDA_ERROR_123456", CudaDriver.GetErrorName((CudaResult)123456));
    }

    [Fact]
    public void Init_WithoutDevice_IsTypedErrorWithNameAndText()
    {
        libraries.RequireLibraries();
        if (NvidiaLibrariesFixture.DriverLoaded)
        {
            return;
        }

        Assert.Equal(CudaResult.NoDevice, CudaDriver.InitRaw());
        var e = Assert.Throws<CudaException>(() => CudaDriver.Open());
        Assert.Equal(CudaResult.NoDevice, e.Code);
        Assert.Equal("cuInit", e.Function);
        Assert.Equal("CUDA_ERROR_NO_DEVICE", e.ErrorName);
        Assert.Equal("no CUDA-capable device is detected", e.ErrorString);
        Assert.Equal("cuInit returned 100 CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)", e.Message);
    }

    [Fact]
    public void MemorySession_WithoutDevice_FailsWithTypedError()
    {
        libraries.RequireLibraries();
        if (NvidiaLibrariesFixture.DriverLoaded)
        {
            return;
        }

        var e = Assert.Throws<CudaException>(() => NvidiaMemorySession.Open("00000000:17:00.0"));
        Assert.Equal(CudaResult.NoDevice, e.Code);
    }

    [Fact]
    public void MissingLibrary_IsACleanTypedError()
    {
        var e = Assert.Throws<NativeLibraryUnavailableException>(() => NativeLibraryProbe.EnsureLoadable("libcuda-securedra-missing.so.1"));
        Assert.Equal("libcuda-securedra-missing.so.1", e.LibraryName);
        Assert.IsAssignableFrom<GpuBackendException>(e);
    }

    [Fact]
    public void VerifyKernelPtx_TargetsPortableIsaAndNamesItsEntry()
    {
        Assert.Contains(".version 6.0", VerifyZeroKernel.Ptx, StringComparison.Ordinal);
        Assert.Contains(".target sm_52", VerifyZeroKernel.Ptx, StringComparison.Ordinal);
        Assert.Contains(".address_size 64", VerifyZeroKernel.Ptx, StringComparison.Ordinal);
        Assert.Contains($".visible .entry {VerifyZeroKernel.EntryName}(", VerifyZeroKernel.Ptx, StringComparison.Ordinal);
        Assert.Contains("atom.global.or.b32", VerifyZeroKernel.Ptx, StringComparison.Ordinal);
        Assert.True(VerifyZeroKernel.Ptx.Count(c => c == '{') == VerifyZeroKernel.Ptx.Count(c => c == '}'));
        Assert.All(VerifyZeroKernel.Ptx, c => Assert.True(c < 128, "PTX must be ASCII"));
    }
}
