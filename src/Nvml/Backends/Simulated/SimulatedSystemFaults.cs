namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// Node-wide simulated driver state, <c>DIR/system.faults.json</c>, re-read on every query like the per-device fault
/// files. Today only confidential computing: absent means the driver has no CC (NOT_SUPPORTED).
/// </summary>
public sealed record SimulatedSystemFaults
{
    public static SimulatedSystemFaults None { get; } = new();

    public SimulatedConfidentialCompute? ConfidentialCompute { get; init; }
}

/// <summary>
/// What nvmlSystemGetConfComputeState/Settings/GpusReadyState answer: <c>environment</c> "unavailable", "simulation" or
/// "production"; <c>multiGpuMode</c> "none", "protected-pcie" or "nvle" (absent: a driver without the settings call).
/// </summary>
public sealed record SimulatedConfidentialCompute
{
    public string Environment { get; init; } = "production";

    public bool CcFeature { get; init; }

    public bool DevToolsMode { get; init; }

    public string? MultiGpuMode { get; init; }

    public bool GpusReady { get; init; }
}
