using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Controller.Audit.Sources;
using SecureDra.Controller.Leadership;

namespace SecureDra.Controller.Audit;

public sealed partial class AuditReconciler
{
    [LoggerMessage(EventId = EventIds.AuditReconciler.AuditFailed, Level = LogLevel.Error, Message = "Hardening audit run failed ({ExceptionType}): {Error}")]
    private static partial void LogAuditFailed(ILogger logger, string exceptionType, string error);
}
