namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// One GPU-instance profile of a GPU (NVML nvmlGpuInstanceProfileInfo_t and its possible placements),
/// limited to profiles whose compute instance spans the whole GPU instance, as NVIDIA's driver
/// publishes them. Plain data: the renderer and the slice state never ask NVML themselves.
/// </summary>
/// <param name="Name">nvidia-smi's name, e.g. <c>1g.10gb</c> or <c>1g.10gb+me</c>.</param>
/// <param name="ProfileId">The GPU-instance profile id (19 for 1g, 0 for 7g on A100/H100).</param>
public sealed record MigProfileSpec(
    string Name,
    int ProfileId,
    long MemoryBytes,
    int Multiprocessors,
    int CopyEngines,
    int Decoders,
    int Encoders,
    int JpegEngines,
    int OfaEngines,
    IReadOnlyList<MigPlacement> Placements);

/// <summary>Where an instance sits: memory slices [Start, Start + Size) of the GPU's 8.</summary>
public sealed record MigPlacement(int Start, int Size)
{
    public int End => Start + Size;

    public bool Overlaps(MigPlacement other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Start < other.End && other.Start < End;
    }
}
