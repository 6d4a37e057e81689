using System.Globalization;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// What one scrub did, with enough detail to be evidence: bytes, coverage, phase timings and
/// whether the device itself confirmed the memory reads back as zero. <see cref="Coverage"/> is
/// <see cref="BytesZeroed"/> / <see cref="TotalBytes"/> (the device's total memory, not what was
/// free when the scrub started); the bytes it did not cover are split into the device's measured
/// reserved baseline and what could not be allocated now (see <see cref="UncoveredBytes"/>).
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
    string? FailureReason)
{
    /// <summary>Bytes of the device's total memory this scrub did not zero and verify: <see cref="BaselineReservedBytes"/> + <see cref="UnallocatableBytes"/>.</summary>
    public long UncoveredBytes => Math.Max(0, TotalBytes - BytesZeroed);

    /// <summary>
    /// The part of the uncovered bytes that an idle, clean device never hands out to a CUDA context
    /// (the context's own reservation), as measured at the device's first verified scrub.
    /// </summary>
    public long BaselineReservedBytes { get; init; }

    /// <summary>
    /// The rest of the uncovered bytes: memory the scrub could not allocate (or, after a failure, did not
    /// get to) this time. At or above <see cref="ToleranceBytes"/> the scrub fails.
    /// </summary>
    public long UnallocatableBytes => Math.Max(0, UncoveredBytes - BaselineReservedBytes);

    /// <summary>The device's reserved baseline after this scrub; null while none has been measured (no verified scrub yet).</summary>
    public long? BaselineBytes { get; init; }

    /// <summary>
    /// One allocation granule of the backend (4 KiB simulated, 2 MiB on NVIDIA): the scrub passes only when less than
    /// this is left beyond the baseline, i.e. a remainder smaller than anything the device can hand out.
    /// </summary>
    public long ToleranceBytes { get; init; }

    /// <summary>"12.0 MiB of 256.0 MiB not covered: 8.0 MiB reserved baseline, 4.0 MiB not allocatable now (tolerated: under 4.0 KiB)".</summary>
    public string DescribeUncovered() => string.Create(CultureInfo.InvariantCulture,
        $"{Size(UncoveredBytes)} of {Size(TotalBytes)} not covered: {Size(BaselineReservedBytes)} reserved baseline{(BaselineBytes is null ? " (not measured yet)" : "")}, {Size(UnallocatableBytes)} not allocatable now (tolerated: under {Size(ToleranceBytes)})");

    /// <summary>Bytes in KiB/MiB/GiB with the exact byte count, so a log reader sees both.</summary>
    internal static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB ({bytes} B)"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB ({bytes} B)"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):F1} KiB ({bytes} B)"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
