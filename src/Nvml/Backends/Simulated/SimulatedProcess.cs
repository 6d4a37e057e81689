namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>A fake compute process listed in a fault file; with <see cref="GpuInstanceId"/> it runs on that MIG GPU instance.</summary>
public sealed record SimulatedProcess(int Pid, long UsedMemoryBytes)
{
    public int? GpuInstanceId { get; init; }
}
