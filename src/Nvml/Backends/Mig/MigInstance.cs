namespace SecureDra.Nvml.Backends.Mig;

/// <summary>
/// One GPU instance of a parent GPU. <see cref="Uuid"/> is the MIG device UUID ("MIG-…") that
/// <c>CUDA_VISIBLE_DEVICES</c> selects; it exists only while the instance has a compute instance, and a new one is
/// issued for every instance created. <see cref="MemoryBytes"/> is what the instance's memory holds (the simulated
/// backend: the bytes of its slices; NVIDIA: the profile's memorySizeMB).
/// </summary>
public sealed record MigInstance(
    string ParentDeviceName,
    int GpuInstanceId,
    int ProfileId,
    string ProfileName,
    MigPlacement Placement,
    long MemoryBytes,
    IReadOnlyList<MigComputeInstance> ComputeInstances,
    string? Uuid);
