using SecureDra.Nvml.Backends.Nvidia;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.Nvml.Backends;

/// <summary>Everything needed to build the GPU layer: the backend choice, its settings and the scrub threshold.</summary>
public sealed record GpuBackendOptions
{
    public GpuBackendKind Kind { get; init; } = GpuBackendKind.Nvidia;

    public SimulatedGpuOptions Simulated { get; init; } = new();

    public NvidiaBackendOptions Nvidia { get; init; } = new();

    /// <summary>
    /// Fraction of a device's total memory its first verified scrub since start must zero and verify; what it
    /// leaves is the device's reserved baseline (<c>--scrub-min-coverage</c>; see <see cref="Scrubbing.ScrubberOptions.MinCoverage"/>).
    /// </summary>
    public double ScrubMinCoverage { get; init; } = 0.99;
}
