namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>A range of a simulated GPU's mapped VRAM file.</summary>
internal sealed class SimulatedAllocation : IDeviceAllocation
{
    private readonly SimulatedMemorySession _session;
    private bool _disposed;

    public SimulatedAllocation(SimulatedMemorySession session, long offset, long bytes)
    {
        _session = session;
        Offset = offset;
        Bytes = bytes;
    }

    public long Offset { get; }

    public long Bytes { get; }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _session.Release(this);
        }
    }
}
