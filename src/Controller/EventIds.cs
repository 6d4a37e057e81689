namespace SecureDra.Controller;

/// <summary>
/// Every log event ID of this assembly, in one place (as YARP's Utilities/EventIds): the key operators filter and
/// alert on. Grouped by the class that logs it; the [LoggerMessage] declarations sit in <c>*.Log.cs</c> files beside
/// that class. An ID means one message across the whole product: tests/Cli.Tests/EventIdRegistryTests checks it
/// over every assembly.
/// </summary>
internal static class EventIds
{
    public static class AuditReconciler
    {
        public const int AuditFailed = 5101;
    }

    public static class LeaseLeaderElector
    {
        public const int LeaseRoundTripFailed = 5201;
    }

    public static class ControllerLog
    {
        public const int AdmissionValidatorFailed = 6520;
        public const int AdmissionDenied = 6521;
        public const int AdmissionBodyTimeout = 6522;
        public const int WebhookCertificateUnreadable = 6523;
        public const int WebhookCertificateReloaded = 6524;
        public const int WebhookCertificateWithoutKey = 6525;
        public const int WebhookCertificateNotLoaded = 6526;
        public const int LeaderLeaseAcquired = 6527;
        public const int LeaderLeaseReleased = 6528;
        public const int LeaderLeaseReleaseFailed = 6529;
        public const int Leading = 6530;
        public const int StoppedLeading = 6531;
        public const int AuditLoopPaused = 6532;
        public const int HardeningFinding = 6533;
        public const int HardeningAuditFinished = 6534;
    }
}
