using System.Globalization;
using SecureDra.Nvml.Backends;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// What one scrub did, with enough detail to be evidence: bytes, coverage, phase timings and
/// whether the device itself confirmed the memory reads back as zero. <see cref="Coverage"/> is
/// <see cref="BytesZeroed"/> / <see cref="TotalBytes"/> (the device's total memory, not what was
/// free when the scrub started); the bytes it did not cover are split into the device's measured
/// reserved baseline and what could not be allocated now (see <see cref="UncoveredBytes"/>).
/// </summary>
public sealed record ScrubReport
{
    public required string DeviceName { get; init; }

    public required string DeviceUuid { get; init; }

    /// <summary>A short name for how the memory was zeroed and verified, e.g. "cuMemsetD32Async+ptx-or-reduce".</summary>
    public required string Method { get; init; }

    /// <summary>The device's total memory: what coverage is judged against.</summary>
    public required long TotalBytes { get; init; }

    public long FreeBytesBefore { get; init; }

    public long BytesZeroed { get; init; }

    public double Coverage { get; init; }

    public ScrubTimings Timings { get; init; } = ScrubTimings.Before(TimeSpan.Zero);

    /// <summary>The device itself confirmed the zeroed memory reads back as zero, and the scrub passed.</summary>
    public bool Verified { get; init; }

    /// <summary>Why the scrub failed or was refused; null exactly when it succeeded.</summary>
    public string? FailureReason { get; init; }

    /// <summary>
    /// The compute processes that held the device when the scrub was asked for: non-empty means the scrub was
    /// refused and never touched the memory (a refusal is a failure with its own reason, not an exception).
    /// </summary>
    public IReadOnlyList<GpuProcess> BlockingProcesses { get; init; } = [];

    /// <summary>
    /// What kind of failure <see cref="FailureReason"/> describes, for a failed report that was not refused:
    /// <see cref="ScrubVerdict.NotVerified"/> unless the scrubber knew better (a deadline, a backend error).
    /// </summary>
    public ScrubVerdict FailureKind { get; init; } = ScrubVerdict.NotVerified;

    public bool Succeeded => FailureReason is null;

    public bool Refused => BlockingProcesses.Count > 0;

    /// <summary>How the scrub ended; <see cref="ScrubVerdict.Verified"/> exactly when it succeeded and the device verified it.</summary>
    public ScrubVerdict Verdict => this switch
    {
        { Succeeded: true, Verified: true } => ScrubVerdict.Verified,
        { Refused: true } => ScrubVerdict.Refused,
        { Succeeded: true } or { FailureKind: ScrubVerdict.Verified } => ScrubVerdict.NotVerified,
        _ => FailureKind,
    };

    public TimeSpan SetupDuration => Timings.Setup;

    public TimeSpan AllocateDuration => Timings.Allocate;

    public TimeSpan ZeroDuration => Timings.Zero;

    public TimeSpan VerifyDuration => Timings.Verify;

    public TimeSpan FreeDuration => Timings.Free;

    public TimeSpan TotalDuration => Timings.Total;

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
