using SecureDra.Kube.Events;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Audit;

/// <summary>Turns one audit run into evidence: a Warning Event on each offending object and the findings gauge.</summary>
public sealed class AuditFindingPublisher
{
    private readonly IEventRecorder? _events;
    private readonly Gauge _findings;
    private readonly Counter _runs;

    public AuditFindingPublisher(MetricsRegistry metrics, IEventRecorder? events)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _events = events;
        _findings = metrics.Gauge("securedra_audit_findings", "Hardening findings in the latest audit run, by check and severity.", "check", "severity");
        _runs = metrics.Counter("securedra_audit_runs_total", "Hardening audit runs, by result (clean, findings, error).", "result");
    }

    public void RecordFailure() => _runs.Inc("error");

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
        if (_events is null)
        {
            return;
        }

        foreach (var finding in findings)
        {
            var target = new EventTarget(finding.Object.ApiVersion, finding.Object.Kind, finding.Object.Name, finding.Object.Namespace, finding.Object.Uid);
            await _events.RecordAsync(target, EventSeverity.Warning, ReasonFor(finding.Check), $"[{finding.Severity}] {finding.Message}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Event reasons are UpperCamelCase: deviceclass-reset-policy becomes HardeningDeviceclassResetPolicy.</summary>
    public static string ReasonFor(string check) =>
        "Hardening" + string.Concat(check.Split('-').Select(part => part.Length == 0 ? "" : char.ToUpperInvariant(part[0]) + part[1..]));
}
