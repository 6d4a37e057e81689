using SecureDra.Nvml.Backends;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// Zeroes and verifies all memory of one device that a context can allocate; coverage is judged against
/// the device's total memory and its measured reserved baseline. Never throws for a scrub that ran and
/// failed: the report says <see cref="ScrubReport.Succeeded"/> = false and why, and the caller
/// must withdraw the device. A refusal (compute processes still hold the device) is a failed report
/// too, with <see cref="ScrubReport.Refused"/> set. Scrubs of one device are serialized; different devices run in parallel.
/// </summary>
public interface IVramScrubber
{
    Task<ScrubReport> ScrubAsync(GpuDevice device, CancellationToken cancellationToken);
}
