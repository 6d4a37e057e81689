namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// What one per-instance scrub did. <see cref="Succeeded"/> only when the worker saw exactly the expected instance,
/// zeroed and device-verified at least the required coverage of <see cref="InstanceMemoryBytes"/>, and reported in
/// time with a well-formed report. <see cref="FailureReason"/> names the first thing that went wrong.
/// </summary>
public sealed record MigScrubResult(
    string ParentDeviceName,
    int GpuInstanceId,
    string InstanceUuid,
    bool Succeeded,
    bool Verified,
    long InstanceMemoryBytes,
    long BytesZeroed,
    double Coverage,
    TimeSpan Duration,
    string Method,
    string? FailureReason);
