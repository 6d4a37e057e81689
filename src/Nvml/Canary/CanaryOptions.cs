namespace SecureDra.Nvml.Canary;

/// <summary>Bounds of one VRAM-canary run. <see cref="Validate"/> names the field and its limit.</summary>
public sealed record CanaryOptions
{
    /// <summary>
    /// The word the canary leaves in every byte range it allocated ("SECUREDRA" is not hex; 0x5EC0DA7A reads
    /// close enough in a hex dump). Any non-zero word would do: what matters is that the next run finds it
    /// unless a scrub removed it.
    /// </summary>
    public const uint MarkerPattern = 0x5EC0DA7A;

    public static readonly TimeSpan MinTimeout = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(1);
    public const long Alignment = 2L * 1024 * 1024;

    /// <summary>The whole run (allocate, verify, write the marker) must finish within this.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Stop allocating at this many bytes; 0: as much as the device gives.</summary>
    public long MaxBytes { get; init; }

    /// <summary>First allocation size; halved on out-of-memory down to <see cref="Alignment"/>.</summary>
    public long ChunkBytes { get; init; } = 1L << 30;

    public void Validate()
    {
        if (Timeout < MinTimeout || Timeout > MaxTimeout)
        {
            throw new ArgumentException($"timeout: must be from {MinTimeout.TotalSeconds:F0}s to {MaxTimeout.TotalMinutes:F0}m, got {Timeout}");
        }

        if (MaxBytes < 0 || (MaxBytes > 0 && MaxBytes < Alignment))
        {
            throw new ArgumentException($"max-bytes: must be 0 (all) or at least {Alignment} (2Mi, one allocation), got {MaxBytes}");
        }

        if (ChunkBytes < Alignment)
        {
            throw new ArgumentException($"chunk: must be at least {Alignment} bytes, got {ChunkBytes}");
        }
    }
}
