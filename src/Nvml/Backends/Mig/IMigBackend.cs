namespace SecureDra.Nvml.Backends.Mig;

/// <summary>
/// Multi-Instance GPU management of one backend: what a GPU can be partitioned into, what instances exist,
/// and the four state-changing steps NVIDIA's driver exposes (create a GPU instance at a placement, create its
/// full-size compute instance, destroy the compute instance, destroy the GPU instance). The steps are separate
/// so the plugin can checkpoint between them and recover from a crash after any one. Knows nothing of
/// Kubernetes or of cleanliness: scrubbing an instance is <see cref="Scrubbing.IMigInstanceScrubber"/>'s job.
/// Failures the caller must tell apart are <see cref="MigException"/> with a <see cref="MigErrorCode"/>.
/// </summary>
public interface IMigBackend
{
    /// <summary>MIG mode now and after the next GPU reset; <see cref="MigModeState.Supported"/> is false on GPUs without MIG.</summary>
    Task<MigModeState> GetMigModeAsync(GpuDevice device, CancellationToken cancellationToken);

    /// <summary>The GPU-instance profiles the GPU offers (only those whose compute instance can span the whole GPU instance), with their possible placements.</summary>
    Task<IReadOnlyList<MigProfile>> GetProfilesAsync(GpuDevice device, CancellationToken cancellationToken);

    /// <summary>Every GPU instance that exists now, with its compute instances and MIG device UUID (null while it has no compute instance).</summary>
    Task<IReadOnlyList<MigInstance>> GetInstancesAsync(GpuDevice device, CancellationToken cancellationToken);

    /// <summary>
    /// nvmlDeviceCreateGpuInstanceWithPlacement. Throws <see cref="MigException"/>: InsufficientResources when the
    /// placement overlaps an existing instance, InvalidArgument for a placement the profile does not allow,
    /// NoPermission without the mig-config capability, NotSupported when MIG mode is off.
    /// </summary>
    Task<MigInstance> CreateGpuInstanceAsync(GpuDevice device, int profileId, MigPlacement placement, CancellationToken cancellationToken);

    /// <summary>
    /// nvmlGpuInstanceCreateComputeInstance with the compute-instance profile that spans the whole GPU instance
    /// (one tenant per GPU instance: compute instances share its memory). Returns the instance with its new MIG UUID.
    /// </summary>
    Task<MigInstance> CreateComputeInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken);

    /// <summary>nvmlComputeInstanceDestroy. InUse while processes run on it; NotFound when it does not exist.</summary>
    Task DestroyComputeInstanceAsync(GpuDevice device, int gpuInstanceId, int computeInstanceId, CancellationToken cancellationToken);

    /// <summary>nvmlGpuInstanceDestroy. InUse while compute instances or processes remain; NotFound when it does not exist.</summary>
    Task DestroyGpuInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken);

    /// <summary>Compute processes running on one GPU instance; a scrub of that instance refuses while any remain.</summary>
    Task<IReadOnlyList<GpuProcess>> GetInstanceProcessesAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken);
}
