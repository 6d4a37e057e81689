using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Controller.Audit.Sources;
using SecureDra.Controller.Leadership;

namespace SecureDra.Controller.Audit;

/// <summary>
/// Audits the live cluster every interval while this replica leads; a lost term cancels the run in flight so
/// two replicas never write the same events.
/// </summary>
public sealed partial class AuditReconciler(
    ISnapshotSource source,
    HardeningAuditor auditor,
    AuditFindingPublisher publisher,
    LeadershipState leadership,
    AuditReconcilerOptions options,
    TimeProvider timeProvider,
    ILogger<AuditReconciler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var term = await leadership.WaitForLeadershipAsync(stoppingToken).ConfigureAwait(false);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, term);
                try
                {
                    while (!linked.IsCancellationRequested)
                    {
                        await RunOnceAsync(linked.Token).ConfigureAwait(false);
                        await Task.Delay(options.Interval, timeProvider, linked.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (term.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
                {
                    ControllerLog.AuditLoopPaused(logger);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public async Task<IReadOnlyList<AuditFinding>?> RunOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            var snapshot = await source.LoadAsync(cancellationToken).ConfigureAwait(false);
            var findings = auditor.Audit(snapshot);
            await publisher.PublishAsync(findings, cancellationToken).ConfigureAwait(false);
            foreach (var finding in findings)
            {
                ControllerLog.HardeningFinding(logger, finding.Check, finding.Severity.ToString(), finding.Object.ToString(), finding.Message);
            }

            ControllerLog.HardeningAuditFinished(logger, findings.Count);
            return findings;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // One line, no stack trace: the usual causes (RBAC, an API server outage, a timeout) are not bugs.
            var error = e.Message.ReplaceLineEndings(" ");
            LogAuditFailed(logger, e.GetType().Name, error);
            await publisher.RecordFailureAsync(error, cancellationToken).ConfigureAwait(false);
            return null;
        }
    }
}
