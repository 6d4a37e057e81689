namespace SecureDra.Nvml.Native.Nvml;

/// <summary>An <c>nvmlDevice_t</c>. Owned by NVML (valid until nvmlShutdown); nothing to free.</summary>
public readonly record struct NvmlDeviceHandle(nint Value);
