namespace SecureDra.Nvml.Canary;

/// <summary>What one canary run found on one device.</summary>
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
