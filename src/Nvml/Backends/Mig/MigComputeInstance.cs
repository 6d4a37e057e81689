namespace SecureDra.Nvml.Backends.Mig;

/// <summary>A compute instance inside a GPU instance: its id within the GPU instance and its compute-instance profile id.</summary>
public sealed record MigComputeInstance(int Id, int ProfileId);
