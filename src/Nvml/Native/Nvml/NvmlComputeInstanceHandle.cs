namespace SecureDra.Nvml.Native.Nvml;

/// <summary>An <c>nvmlComputeInstance_t</c>. Owned by NVML (valid until the instance is destroyed or nvmlShutdown); nothing to free.</summary>
public readonly record struct NvmlComputeInstanceHandle(nint Value);
