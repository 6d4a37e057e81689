using Microsoft.Extensions.Logging;

namespace SecureDra.Controller;

/// <summary>
/// The controller's log events that were plain <c>logger.LogX</c> calls, declared once with their own EventIds
/// (6520-6549) so operators can filter and alert on them like every other event; kept apart from the logic
/// (the YARP <c>*.Log.cs</c> style).
/// </summary>
internal static partial class ControllerLog
{
    [LoggerMessage(EventId = EventIds.ControllerLog.AdmissionValidatorFailed, EventName = "AdmissionValidatorFailed", Level = LogLevel.Error,
        Message = "Validator failed on {Resource} {Namespace}/{Name}; the review is denied")]
    public static partial void AdmissionValidatorFailed(ILogger logger, Exception exception, string? resource, string? @namespace, string? name);

    [LoggerMessage(EventId = EventIds.ControllerLog.AdmissionDenied, EventName = "AdmissionDenied", Level = LogLevel.Warning,
        Message = "Admission denied {Resource} {Namespace}/{Name} {Operation}: {Errors}")]
    public static partial void AdmissionDenied(ILogger logger, string? resource, string? @namespace, string? name, string operation, string errors);

    [LoggerMessage(EventId = EventIds.ControllerLog.AdmissionBodyTimeout, EventName = "AdmissionBodyTimeout", Level = LogLevel.Warning,
        Message = "Admission request body from {Remote} not received within {Timeout}; closing the connection")]
    public static partial void AdmissionBodyTimeout(ILogger logger, string? remote, TimeSpan timeout);

    [LoggerMessage(EventId = EventIds.ControllerLog.WebhookCertificateUnreadable, EventName = "WebhookCertificateUnreadable", Level = LogLevel.Warning,
        Message = "Could not read the webhook certificate files; keeping the current certificate")]
    public static partial void WebhookCertificateUnreadable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = EventIds.ControllerLog.WebhookCertificateReloaded, EventName = "WebhookCertificateReloaded", Level = LogLevel.Information,
        Message = "Webhook certificate reloaded: subject {Subject}, expires {NotAfter:o}, thumbprint {Thumbprint}")]
    public static partial void WebhookCertificateReloaded(ILogger logger, string subject, DateTime notAfter, string thumbprint);

    [LoggerMessage(EventId = EventIds.ControllerLog.WebhookCertificateWithoutKey, EventName = "WebhookCertificateWithoutKey", Level = LogLevel.Warning,
        Message = "Webhook certificate {CertPath} has no matching private key in {KeyPath}")]
    public static partial void WebhookCertificateWithoutKey(ILogger logger, string certPath, string keyPath);

    [LoggerMessage(EventId = EventIds.ControllerLog.WebhookCertificateNotLoaded, EventName = "WebhookCertificateNotLoaded", Level = LogLevel.Warning,
        Message = "Webhook certificate {CertPath} / key {KeyPath} could not be loaded: {Error}")]
    public static partial void WebhookCertificateNotLoaded(ILogger logger, string certPath, string keyPath, string error);

    [LoggerMessage(EventId = EventIds.ControllerLog.LeaderLeaseAcquired, EventName = "LeaderLeaseAcquired", Level = LogLevel.Information,
        Message = "Acquired leader lease {Namespace}/{Lease} as {Identity} (previous holder {Previous})")]
    public static partial void LeaderLeaseAcquired(ILogger logger, string @namespace, string lease, string identity, string? previous);

    [LoggerMessage(EventId = EventIds.ControllerLog.LeaderLeaseReleased, EventName = "LeaderLeaseReleased", Level = LogLevel.Information,
        Message = "Released leader lease {Namespace}/{Lease}")]
    public static partial void LeaderLeaseReleased(ILogger logger, string @namespace, string lease);

    [LoggerMessage(EventId = EventIds.ControllerLog.LeaderLeaseReleaseFailed, EventName = "LeaderLeaseReleaseFailed", Level = LogLevel.Warning,
        Message = "Could not release leader lease {Namespace}/{Lease}; it expires after {Duration}")]
    public static partial void LeaderLeaseReleaseFailed(ILogger logger, Exception exception, string @namespace, string lease, TimeSpan duration);

    [LoggerMessage(EventId = EventIds.ControllerLog.Leading, EventName = "Leading", Level = LogLevel.Information, Message = "Leading as {Identity}")]
    public static partial void Leading(ILogger logger, string identity);

    [LoggerMessage(EventId = EventIds.ControllerLog.StoppedLeading, EventName = "StoppedLeading", Level = LogLevel.Warning, Message = "Stopped leading ({Reason})")]
    public static partial void StoppedLeading(ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.ControllerLog.AuditLoopPaused, EventName = "AuditLoopPaused", Level = LogLevel.Information, Message = "Audit loop paused: leadership lost")]
    public static partial void AuditLoopPaused(ILogger logger);

    [LoggerMessage(EventId = EventIds.ControllerLog.HardeningFinding, EventName = "HardeningFinding", Level = LogLevel.Warning,
        Message = "Hardening finding {Check} {Severity} on {Object}: {Message}")]
    public static partial void HardeningFinding(ILogger logger, string check, string severity, string @object, string message);

    [LoggerMessage(EventId = EventIds.ControllerLog.HardeningAuditFinished, EventName = "HardeningAuditFinished", Level = LogLevel.Information,
        Message = "Hardening audit finished with {Count} finding(s)")]
    public static partial void HardeningAuditFinished(ILogger logger, int count);
}
