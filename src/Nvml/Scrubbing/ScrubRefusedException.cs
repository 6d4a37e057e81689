using SecureDra.Nvml.Backends;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>The scrub did not start because compute processes still hold the device.</summary>
public sealed class ScrubRefusedException : GpuBackendException
{
    public ScrubRefusedException() { }
    public ScrubRefusedException(string message) : base(message) { }
    public ScrubRefusedException(string message, Exception innerException) : base(message, innerException) { }

    public ScrubRefusedException(string deviceName, IReadOnlyList<GpuProcess> processes)
        : base($"refusing to scrub {deviceName}: {processes.Count} compute process(es) still running (pids {string.Join(", ", processes.Select(p => p.Pid))})")
    {
        Processes = processes;
    }

    public IReadOnlyList<GpuProcess> Processes { get; } = [];
}
