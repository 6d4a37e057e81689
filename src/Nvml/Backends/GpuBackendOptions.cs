using SecureDra.Nvml.Backends.Nvidia;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.Nvml.Backends;

/// <summary>Everything needed to build the GPU layer: the backend choice, its settings and the scrub threshold.</summary>
public sealed record GpuBackendOptions
{
    public GpuBackendKind Kind { get; init; } = GpuBackendKind.Nvidia;

    public SimulatedGpuOptions Simulated { get; init; } = new();

    public NvidiaBackendOptions Nvidia { get; init; } = new();

    /// <summary>Minimum fraction of free memory a scrub must zero and verify (<c>--scrub-min-coverage</c>).</summary>
    public double ScrubMinCoverage { get; init; } = 0.98;
}
