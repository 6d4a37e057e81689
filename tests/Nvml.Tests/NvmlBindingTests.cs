using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Nvidia;
using SecureDra.Nvml.Native;
using SecureDra.Nvml.Native.Nvml;

namespace SecureDra.Nvml.Tests;

/// <summary>The NVML bindings against the real libnvidia-ml.so.1 on a machine without a GPU.</summary>
[Collection(NvidiaLibrariesCollection.Name)]
public class NvmlBindingTests(NvidiaLibrariesFixture libraries)
{
    [Fact]
    public void ErrorString_MarshalsWithoutInit()
    {
        libraries.RequireLibraries();
        Assert.Equal("Success", NvmlLibrary.ErrorString(NvmlReturn.Success));
        Assert.Equal("Driver Not Loaded", NvmlLibrary.ErrorString(NvmlReturn.DriverNotLoaded));
        Assert.Equal("Insufficient Size", NvmlLibrary.ErrorString(NvmlReturn.InsufficientSize));
        Assert.Equal("Uninitialized", NvmlLibrary.ErrorString(NvmlReturn.Uninitialized));
    }

    [Fact]
    public void Init_WithoutDriver_IsTypedErrorWithCodeAndText()
    {
        libraries.RequireLibraries();
        if (NvidiaLibrariesFixture.DriverLoaded)
        {
            using var nvml = NvmlLibrary.Open();
            Assert.True(nvml.GetDeviceCount() >= 0);
            return;
        }

        Assert.Equal(NvmlReturn.DriverNotLoaded, NvmlLibrary.InitRaw());
        var e = Assert.Throws<NvmlException>(() => NvmlLibrary.Open());
        Assert.Equal(NvmlReturn.DriverNotLoaded, e.Code);
        Assert.Equal("nvmlInit_v2", e.Function);
        Assert.Equal("Driver Not Loaded", e.ErrorString);
        Assert.Equal("nvmlInit_v2 returned 9 (Driver Not Loaded)", e.Message);
        Assert.IsAssignableFrom<GpuBackendException>(e);

        // After a failed init: device count is UNINITIALIZED, shutdown still succeeds.
        Assert.Equal(NvmlReturn.Uninitialized, NvmlLibrary.GetDeviceCountRaw(out _));
        Assert.Equal(NvmlReturn.Success, NvmlLibrary.ShutdownRaw());
    }

    [Fact]
    public async Task NvidiaBackend_WithoutDriver_FailsWithNoDriverMessage()
    {
        libraries.RequireLibraries();
        if (NvidiaLibrariesFixture.DriverLoaded)
        {
            return;
        }

        await using var backend = new NvidiaGpuBackend(new NvidiaBackendOptions(), TimeProvider.System);
        var e = await Assert.ThrowsAsync<GpuBackendException>(() => backend.EnumerateAsync(CancellationToken.None));
        Assert.StartsWith("no NVIDIA driver: nvmlInit_v2 returned 9 (Driver Not Loaded)", e.Message, StringComparison.Ordinal);
        Assert.IsType<NvmlException>(e.InnerException);

        var device = new GpuDevice("gpu-0", 0, "GPU-00000000-0000-0000-0000-000000000000", "x", "x", "x", "9.0", "1.0.0", "12.2.0", "00000000:17:00.0", 0, 0, []);
        e = await Assert.ThrowsAsync<GpuBackendException>(() => backend.GetRunningProcessesAsync(device, CancellationToken.None));
        Assert.StartsWith("no NVIDIA driver", e.Message, StringComparison.Ordinal);

        // The health stream fails the same clean way instead of crashing a thread.
        e = await Assert.ThrowsAsync<GpuBackendException>(async () =>
        {
            await foreach (var _ in backend.WatchHealthAsync(CancellationToken.None))
            {
            }
        });
        Assert.StartsWith("no NVIDIA driver", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingLibrary_IsACleanTypedError()
    {
        var e = Assert.Throws<NativeLibraryUnavailableException>(() => NativeLibraryProbe.EnsureLoadable("libnvidia-ml-securedra-missing.so.1"));
        Assert.Equal("libnvidia-ml-securedra-missing.so.1", e.LibraryName);
        Assert.Null(e.EntryPoint);
        Assert.Contains("native library libnvidia-ml-securedra-missing.so.1 could not be loaded", e.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<GpuBackendException>(e);
    }

    [Fact]
    public void VersionStrings_AreSemver()
    {
        Assert.Equal("535.261.3", NvidiaNames.DriverVersion("535.261.03"));
        Assert.Equal("550.54.0", NvidiaNames.DriverVersion("550.54"));
        Assert.Equal("12.2.0", NvidiaNames.CudaVersion(12020));
        Assert.Equal("11.8.0", NvidiaNames.CudaVersion(11080));
        Assert.Equal("Hopper", NvidiaNames.Architecture(9));
        Assert.Equal("Unknown", NvidiaNames.Architecture(uint.MaxValue));
        Assert.Equal("Tesla", NvidiaNames.Brand(2));
    }
}
