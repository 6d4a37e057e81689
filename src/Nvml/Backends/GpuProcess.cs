namespace SecureDra.Nvml.Backends;

/// <summary>A compute process that holds a context on a device.</summary>
public sealed record GpuProcess(int Pid, long UsedMemoryBytes);
