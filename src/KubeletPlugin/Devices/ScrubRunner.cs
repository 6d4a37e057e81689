using System.Globalization;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Events;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Runs one scrub for the plugin and turns its report into a <see cref="ScrubOutcome"/> plus the Node Event operators
/// read (VramScrubbed / VramScrubFailed). Nothing else: the GPU layer (<see cref="IVramScrubber"/>) catches every way a
/// scrub can fail, the caller's deadline included, and writes the scrub's one log event and one metric sample with
/// the trigger this runner passes on; the releasing claim travels with that event as the log scope property ClaimUid.
/// </summary>
public sealed class ScrubRunner(IVramScrubber scrubber, NodeEvents events, ILogger<ScrubRunner> logger)
{
    /// <param name="claimUid">The claim whose release triggered the scrub; null for a device no claim holds.</param>
    /// <param name="trigger">Why the scrub runs (release, retry, startup, health): the label of its metric sample.</param>
    /// <param name="cancellationToken">Its cancellation is the scrub's deadline: a scrub cut short is a timeout report.</param>
    public async Task<ScrubOutcome> RunAsync(GpuDevice device, string? claimUid, ScrubTrigger trigger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        ScrubReport report;
        using (logger.BeginScope(new KeyValuePair<string, object>[] { new("ClaimUid", claimUid ?? "") }))
        {
            report = await scrubber.ScrubAsync(device, trigger, cancellationToken).ConfigureAwait(false);
        }

        var outcome = report.Verdict switch
        {
            ScrubVerdict.Verified => new ScrubOutcome(device.Name, true, "verified", report),
            ScrubVerdict.Refused => new ScrubOutcome(device.Name, false, report.FailureReason ?? "refused", report),
            ScrubVerdict.Timeout or ScrubVerdict.Error => new ScrubOutcome(device.Name, false, report.FailureReason ?? ScrubLabels.Of(report.Verdict), report),
            _ => new ScrubOutcome(device.Name, false, $"scrub not verified: {report.FailureReason ?? "the device did not confirm zeroed memory"}", report),
        };

        // The report's total is timed from the request, waiting for the device included: what this release waited.
        var message = string.Create(CultureInfo.InvariantCulture,
            $"device {device.Name} ({device.Uuid}) claim {(claimUid is null ? "(retry)" : claimUid)}: {report.BytesZeroed} bytes zeroed, coverage {report.Coverage:P2}, duration {report.TotalDuration.TotalMilliseconds:F0} ms, verified {(report.Verified ? "yes" : "no")}; {report.DescribeUncovered()}");
        if (!outcome.Clean)
        {
            message += "; " + outcome.Detail + "; device withdrawn from scheduling";
        }

        await events.RecordAsync(outcome.Clean ? EventSeverity.Normal : EventSeverity.Warning, outcome.Clean ? "VramScrubbed" : "VramScrubFailed", message).ConfigureAwait(false);
        return outcome;
    }
}
