using SecureDra.Kube.Events;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Audit;

/// <summary>
/// Turns one audit run into evidence: a Warning Event on each offending object and the findings gauge; a run that
/// could not finish is counted (result="error"), raises the consecutive-failures gauge, and records a
/// HardeningAuditFailed Warning Event on <paramref name="failureTarget"/> (the controller's Pod) so that
/// <c>kubectl describe</c> shows it.
/// </summary>
public sealed class AuditFindingPublisher(MetricsRegistry metrics, IEventRecorder? events, EventTarget? failureTarget = null, TimeProvider? timeProvider = null)
{
    public const string FailureReason = "HardeningAuditFailed";

    private readonly Gauge _findings = (metrics ?? throw new ArgumentNullException(nameof(metrics)))
        .Gauge("securedra_audit_findings", "Hardening findings in the latest audit run, by check and severity.", "check", "severity");

    private readonly Counter _runs = metrics.Counter("securedra_audit_runs_total", "Hardening audit runs, by result (clean, findings, error).", "result");

    private readonly Gauge _consecutiveFailures = metrics.Gauge("securedra_audit_consecutive_failures", "Hardening audit runs in a row that could not finish (0 after a run that did).");

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public AuditStatus Status { get; } = new();

    /// <summary>Records a run that could not finish; the Event is best effort (the API server may be what failed).</summary>
    public async Task RecordFailureAsync(string error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        _runs.Inc("error");
        var failures = Status.Failed(error);
        _consecutiveFailures.Set(failures);
        if (events is not null && failureTarget is not null)
        {
            await events.RecordAsync(failureTarget, EventSeverity.Warning, FailureReason, $"hardening audit run failed ({failures} in a row): {error}", cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task PublishAsync(IReadOnlyList<AuditFinding> findings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(findings);
        // Every (check, severity) cell is written each run so a fixed finding drops back to 0 instead of going stale.
        foreach (var check in AuditChecks.All)
        {
            foreach (var severity in Enum.GetValues<AuditSeverity>())
            {
                _findings.Set(findings.Count(f => f.Check == check && f.Severity == severity), check, severity.ToString());
            }
        }

        _runs.Inc(findings.Count == 0 ? "clean" : "findings");
        Status.Succeeded(_time.GetUtcNow());
        _consecutiveFailures.Set(0);
        if (events is null)
        {
            return;
        }

        foreach (var finding in findings)
        {
            var target = new EventTarget(finding.Object.ApiVersion, finding.Object.Kind, finding.Object.Name, finding.Object.Namespace, finding.Object.Uid);
            await events.RecordAsync(target, EventSeverity.Warning, ReasonFor(finding.Check), $"[{finding.Severity}] {finding.Message}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Event reasons are UpperCamelCase: deviceclass-reset-policy becomes HardeningDeviceclassResetPolicy.</summary>
    public static string ReasonFor(string check) =>
        "Hardening" + string.Concat(check.Split('-').Select(part => part.Length == 0 ? "" : char.ToUpperInvariant(part[0]) + part[1..]));
}
