namespace SecureDra.Nvml.Backends.Mig;

/// <summary>
/// One GPU-instance profile of a GPU. <see cref="Id"/> is NVML's profile ID (1g=19, 1g+me=20, 1g double memory=15,
/// 2g=14, 3g=9, 4g=5, 7g=0 on A100/H100); <see cref="Name"/> is NVIDIA's name ("1g.10gb", "1g.10gb+me");
/// <see cref="MemoryMiB"/> the nominal memory NVML reports (memorySizeMB); <see cref="ComputeSliceCount"/> NVML's
/// sliceCount (the "1g" of the name); <see cref="MemorySliceCount"/> the memory slices each placement occupies;
/// <see cref="MaxInstances"/> NVML's instanceCount; <see cref="Placements"/> every start the driver allows.
/// </summary>
public sealed record MigProfile(
    int Id,
    string Name,
    long MemoryMiB,
    int ComputeSliceCount,
    int MemorySliceCount,
    int MaxInstances,
    MigCapacities Capacities,
    IReadOnlyList<MigPlacement> Placements);
