using System.Globalization;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>Scrub policy. Bound from configuration / flags through the Options pattern.</summary>
public sealed class ScrubberOptions
{
    /// <summary>Lowest <see cref="MinCoverage"/> accepted: below it a "reserved baseline" could be a tenth of the device.</summary>
    public const double LowestMinCoverage = 0.9;

    /// <summary>
    /// Fraction of the device's TOTAL memory that a device's first verified scrub since start must zero
    /// and verify (flag <c>--scrub-min-coverage</c>, default 0.99, from 0.9 to 1). What that scrub leaves
    /// uncovered becomes the device's reserved baseline (the CUDA context's own memory: a few hundred MiB
    /// on a data-centre GPU); every later scrub must then cover all but the baseline plus one allocation
    /// granule (2 MiB on NVIDIA, 4 KiB simulated). So this bounds how large a baseline may be, and is not
    /// a tolerance for later scrubs. Lower it only for GPUs whose context needs more than 1 % of memory,
    /// after measuring with <c>securedra scrub</c>.
    /// </summary>
    public double MinCoverage { get; set; } = 0.99;

    /// <summary>First allocation size; halved on out-of-memory.</summary>
    public long InitialChunkBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Smallest chunk of the bulk allocation; below it the scrubber halves down to one allocation granule of the device for the tail.</summary>
    public long MinChunkBytes { get; set; } = 2L * 1024 * 1024;

    /// <summary>A scrub that runs longer fails (the kubelet gives NodeUnprepareResources 45 s for a whole batch).</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Allocation sizes are rounded down to this granularity (4-byte words for memset and the verify kernel).</summary>
    public const long Alignment = 4096;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and its limit.</summary>
    public void Validate()
    {
        if (double.IsNaN(MinCoverage) || MinCoverage < LowestMinCoverage || MinCoverage > 1)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"scrub-min-coverage: must be from {LowestMinCoverage} to 1 (a fraction of the device's total memory), got {MinCoverage}"));
        }

        if (MinChunkBytes < Alignment || MinChunkBytes % Alignment != 0)
        {
            throw new ArgumentException($"MinChunkBytes: must be a positive multiple of {Alignment}, got {MinChunkBytes}");
        }

        if (InitialChunkBytes < MinChunkBytes)
        {
            throw new ArgumentException($"InitialChunkBytes: must be at least MinChunkBytes ({MinChunkBytes}), got {InitialChunkBytes}");
        }

        if (Deadline <= TimeSpan.Zero || Deadline > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"Deadline: must be between 0 and 10 minutes, got {Deadline}");
        }
    }
}
