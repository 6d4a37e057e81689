using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// Zeroes and verifies the memory of one MIG GPU instance. A CUDA context cannot be re-scoped after cuInit, so the
/// work runs in a short-lived child process (<c>securedra scrub-worker</c>) that sees only that instance; this side
/// starts it, kills it at the deadline and strictly parses its bounded report. Never throws for a scrub that did not
/// succeed, the caller's deadline included (the result says why); the caller keeps the instance and its slices occupied and withdraws overlapping devices.
/// </summary>
public interface IMigInstanceScrubber
{
    /// <param name="trigger">Why the scrub runs: the <c>trigger</c> label of its metric sample and a property of its log event.</param>
    Task<MigScrubResult> ScrubAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, CancellationToken cancellationToken);
}
