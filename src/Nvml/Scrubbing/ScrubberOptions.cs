namespace SecureDra.Nvml.Scrubbing;

/// <summary>Scrub policy. Bound from configuration / flags through the Options pattern.</summary>
public sealed class ScrubberOptions
{
    /// <summary>Fraction of the free memory that must be zeroed and verified, else the scrub fails (flag <c>--scrub-min-coverage</c>).</summary>
    public double MinCoverage { get; set; } = 0.98;

    /// <summary>First allocation size; halved on out-of-memory.</summary>
    public long InitialChunkBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Smallest allocation tried before the scrubber stops allocating.</summary>
    public long MinChunkBytes { get; set; } = 2L * 1024 * 1024;

    /// <summary>A scrub that runs longer fails (the kubelet gives NodeUnprepareResources 45 s for a whole batch).</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Allocation sizes are rounded down to this granularity (4-byte words for memset and the verify kernel).</summary>
    public const long Alignment = 4096;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and its limit.</summary>
    public void Validate()
    {
        if (double.IsNaN(MinCoverage) || MinCoverage <= 0 || MinCoverage > 1)
        {
            throw new ArgumentException($"scrub-min-coverage: must be greater than 0 and at most 1, got {MinCoverage}");
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
