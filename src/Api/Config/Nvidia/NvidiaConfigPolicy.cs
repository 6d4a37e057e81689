namespace SecureDra.Api.Config.Nvidia;

/// <summary>
/// What the proxy lets through to the vendor beyond plain exclusive GPUs. Every switch is off by default:
/// MPS starts a per-claim control daemon that holds the GPU open, so the scrubber cannot run until the
/// vendor has torn it down; VFIO hands the whole PCI function to a guest, out of NVML's reach; compute
/// domains span nodes (IMEX channels), so a single node cannot prove them clean.
/// </summary>
public sealed record NvidiaConfigPolicy(bool AllowMps = false, bool AllowVfio = false, bool AllowComputeDomain = false)
{
    /// <summary>Only exclusive GPUs, MIG devices and time-slicing with an explicit interval.</summary>
    public static NvidiaConfigPolicy Strict { get; } = new();
}
