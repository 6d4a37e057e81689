namespace SecureDra.Nvml.Backends;

public enum GpuHealthEventKind
{
    Xid,
    DoubleBitEcc,
    SingleBitEcc,
    GpuLost,
    Recovered,
}

/// <summary>A health signal from the backend (NVML event set, or an injected simulated event).</summary>
public sealed record GpuHealthEvent(
    string DeviceName,
    GpuHealthEventKind Kind,
    ulong EventData,
    DateTimeOffset Timestamp,
    string Description);
