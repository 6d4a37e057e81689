namespace SecureDra.Nvml.Native.Cuda;

/// <summary><c>CUdevice_attribute</c> values used here (cuda.h).</summary>
public enum CudaDeviceAttribute
{
    MaxThreadsPerBlock = 1,
    MultiprocessorCount = 16,
    ComputeCapabilityMajor = 75,
    ComputeCapabilityMinor = 76,
}
