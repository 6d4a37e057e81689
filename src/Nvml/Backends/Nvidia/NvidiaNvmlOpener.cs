using SecureDra.Nvml.Native;
using SecureDra.Nvml.Native.Nvml;

namespace SecureDra.Nvml.Backends.Nvidia;

/// <summary>Opens NVML for a backend component, turning "no library / no driver" into the one operator-facing message the backend uses.</summary>
internal static class NvidiaNvmlOpener
{
    public static NvmlLibrary Open()
    {
        try
        {
            return NvmlLibrary.Open();
        }
        catch (NativeLibraryUnavailableException e)
        {
            throw new GpuBackendException($"no NVIDIA driver: {e.Message}", e);
        }
        catch (NvmlException e)
        {
            throw new GpuBackendException(
                $"no NVIDIA driver: {e.Function} returned {(int)e.Code} ({e.ErrorString}); is the nvidia kernel module loaded and /dev/nvidiactl present? Use --gpu-backend simulated to run without GPUs", e);
        }
    }
}
