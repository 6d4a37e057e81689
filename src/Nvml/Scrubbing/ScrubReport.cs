namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// What one scrub did, with enough detail to be evidence: bytes, coverage, phase timings and
/// whether the device itself confirmed the memory reads back as zero.
/// </summary>
public sealed record ScrubReport(
    string DeviceName,
    string DeviceUuid,
    long TotalBytes,
    long FreeBytesBefore,
    long BytesZeroed,
    double Coverage,
    TimeSpan SetupDuration,
    TimeSpan AllocateDuration,
    TimeSpan ZeroDuration,
    TimeSpan VerifyDuration,
    TimeSpan FreeDuration,
    TimeSpan TotalDuration,
    bool Verified,
    string Method,
    bool Succeeded,
    string? FailureReason);
