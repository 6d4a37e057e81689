namespace SecureDra.Nvml.Canary;

/// <summary>
/// What one canary run found on one device. <see cref="DirtyBytes"/> is the size of the allocations that held a
/// non-zero byte (the on-device check answers per allocation, not per byte).
/// </summary>
public sealed record CanaryReport(
    string Device,
    string Uuid,
    string Backend,
    string Method,
    CanaryVerdict Verdict,
    long BytesChecked,
    long DirtyBytes,
    int Allocations,
    int DirtyAllocations,
    bool MarkerWritten,
    TimeSpan Duration,
    string? FailureReason)
{
    public bool Passed => Verdict == CanaryVerdict.Clean;
}
