using SecureDra.Nvml.Backends;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// Zeroes and verifies all memory of one device that a context can allocate; coverage is judged against
/// the device's total memory and its measured reserved baseline. Never throws for a scrub that did not
/// verify, whatever the cause (a failed phase, a backend error, the caller's deadline): the report says
/// <see cref="ScrubReport.Succeeded"/> = false, why (<see cref="ScrubReport.Verdict"/>), and the caller must withdraw
/// the device. Exceptions of a scrub are caught here and nowhere above; the implementation also writes the scrub's one
/// log event and one metric sample. A refusal (compute processes still hold the device) is a failed report
/// too, with <see cref="ScrubReport.Refused"/> set. Scrubs of one device are serialized; different devices run in parallel.
/// </summary>
public interface IVramScrubber
{
    /// <param name="trigger">Why the scrub runs: the <c>trigger</c> label of its metric sample and a property of its log event.</param>
    /// <param name="cancellationToken">The caller's deadline: when it fires, the report is a failure with <see cref="ScrubVerdict.Timeout"/>.</param>
    Task<ScrubReport> ScrubAsync(GpuDevice device, ScrubTrigger trigger, CancellationToken cancellationToken);
}
