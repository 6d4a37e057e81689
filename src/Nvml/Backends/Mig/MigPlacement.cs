namespace SecureDra.Nvml.Backends.Mig;

/// <summary>
/// <c>nvmlGpuInstancePlacement_t</c>: the memory slices <c>[Start, Start + Size)</c> of the GPU's
/// <see cref="MemorySliceCount"/> that a GPU instance occupies. Two instances conflict exactly when their
/// placements overlap; cleanliness is tracked per memory slice.
/// </summary>
public readonly record struct MigPlacement(int Start, int Size)
{
    /// <summary>Memory slices of every MIG-capable GPU so far (A100, H100): <c>memory-slice-0…7</c>.</summary>
    public const int MemorySliceCount = 8;

    /// <summary>One past the last slice.</summary>
    public int End => Start + Size;

    /// <summary>True when the placement lies within the GPU's memory slices and is not empty.</summary>
    public bool IsValid => Start >= 0 && Size >= 1 && End <= MemorySliceCount;

    /// <summary>The slice indices it covers, in order.</summary>
    public IEnumerable<int> Slices => Enumerable.Range(Start, Math.Max(0, Size));

    public bool Contains(int slice) => slice >= Start && slice < End;

    public bool Overlaps(MigPlacement other) => Start < other.End && other.Start < End;

    public override string ToString() => $"{{{Start},{Size}}}";
}
