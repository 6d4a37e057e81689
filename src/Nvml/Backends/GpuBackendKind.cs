namespace SecureDra.Nvml.Backends;

/// <summary>Which <see cref="IGpuBackend"/> serves the node.</summary>
public enum GpuBackendKind
{
    Nvidia,
    Simulated,
}
