using SecureDra.Controller.Audit.Sources;

namespace SecureDra.Controller.Audit;

/// <summary>One audit for <c>securedra audit</c>: load, check, print. Exit code 0 clean, 1 findings.</summary>
public static class AuditRunner
{
    public static async Task<int> RunAsync(ISnapshotSource source, HardeningAuditOptions options, string output, TextWriter writer, AuditFindingPublisher? publisher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(writer);
        var snapshot = await source.LoadAsync(cancellationToken).ConfigureAwait(false);
        var findings = new HardeningAuditor(options).Audit(snapshot);
        if (publisher is not null)
        {
            await publisher.PublishAsync(findings, cancellationToken).ConfigureAwait(false);
        }

        await writer.WriteAsync(output == "json" ? AuditReportWriter.Json(findings) : AuditReportWriter.Table(findings)).ConfigureAwait(false);
        return findings.Count == 0 ? 0 : 1;
    }
}
