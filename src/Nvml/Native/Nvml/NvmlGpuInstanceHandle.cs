namespace SecureDra.Nvml.Native.Nvml;

/// <summary>An <c>nvmlGpuInstance_t</c>. Owned by NVML (valid until the instance is destroyed or nvmlShutdown); nothing to free.</summary>
public readonly record struct NvmlGpuInstanceHandle(nint Value);
