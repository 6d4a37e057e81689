using System.Text.Json;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// Strict reading of a scrub worker's stdout: at most <see cref="MigScrubWorkerReport.MaxBytes"/>, one JSON object with
/// only known fields (no duplicates, no trailing data), about the expected MIG UUID, an outcome that agrees with the exit
/// code, numbers in range, and a "scrubbed" outcome only when device-verified on exactly the expected instance.
/// Never throws for any input.
/// </summary>
public static class MigScrubReportParser
{
    /// <summary>The report, or why it is rejected (then the report is null).</summary>
    public static (MigScrubWorkerReport? Report, string? Rejection) Parse(byte[] stdout, bool oversized, int exitCode, string expectedUuid)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        if (oversized)
        {
            return (null, $"more than {MigScrubWorkerReport.MaxBytes} bytes on stdout");
        }

        if (stdout.Length == 0)
        {
            return (null, "no report on stdout");
        }

        MigScrubWorkerReport? report;
        try
        {
            report = JsonSerializer.Deserialize(stdout, MigScrubWorkerReportJsonContext.Default.MigScrubWorkerReport);
        }
        catch (JsonException e)
        {
            return (null, $"not a valid report: {e.Message}");
        }

        if (report is null)
        {
            return (null, "the report is null");
        }

        if (report.InstanceUuid != expectedUuid)
        {
            return (null, $"the report is about {report.InstanceUuid}, not {expectedUuid}");
        }

        var expectedExit = report.Outcome switch
        {
            "scrubbed" => MigScrubWorker.ExitScrubbed,
            "failed" or "refused" => MigScrubWorker.ExitFailed,
            "wrong-device" => MigScrubWorker.ExitWrongDevice,
            _ => -1,
        };
        if (expectedExit < 0)
        {
            return (null, $"unknown outcome \"{Truncate(report.Outcome)}\"");
        }

        if (expectedExit != exitCode)
        {
            return (null, $"outcome {report.Outcome} with exit code {exitCode}");
        }

        if (report.BytesZeroed < 0 || report.TotalBytes < 0 || report.BytesZeroed > report.TotalBytes
            || double.IsNaN(report.Coverage) || report.Coverage < 0 || report.Coverage > 1
            || report.VisibleUuids.Count > 16 || report.FailureReason is { Length: > MigScrubWorkerReport.MaxReasonLength })
        {
            return (null, "numbers out of range (bytes, coverage, visible devices or reason length)");
        }

        if (report.Outcome == "scrubbed" && (!report.Verified || report.VisibleUuids.Count != 1 || report.VisibleUuids[0] != expectedUuid))
        {
            return (null, "a successful scrub must be device-verified on exactly the expected instance");
        }

        return (report, null);
    }

    internal static string Truncate(string text) => text.Length > 200 ? text[..200] + "…" : text;
}
