namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>A fake compute process listed in a fault file.</summary>
public sealed record SimulatedProcess(int Pid, long UsedMemoryBytes);
