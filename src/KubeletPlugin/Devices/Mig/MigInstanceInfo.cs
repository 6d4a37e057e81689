using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>A MIG instance that exists on a GPU (GPU instance + its full-size compute instance), as static mode publishes it.</summary>
public sealed record MigInstanceInfo(string MigUuid, MigProfile Profile, MigPlacement Placement, int GpuInstanceId, int ComputeInstanceId);
