namespace SecureDra.KubeletPlugin;

/// <summary>
/// Every log event ID of this assembly, in one place (as YARP's Utilities/EventIds): the key operators filter and
/// alert on. Grouped by the class that logs it; the [LoggerMessage] declarations sit in <c>*.Log.cs</c> files beside
/// that class. An ID means one message across the whole product: tests/Cli.Tests/EventIdRegistryTests checks it
/// over every assembly.
/// </summary>
internal static partial class EventIds
{
    public static class SocketLifecycle
    {
        public const int Listening = 1010;
        public const int ClaimFailed = 1011;
    }

    public static class ResourceApiReadiness
    {
        public const int Version = 1111;
        public const int Deferred = 1112;
    }

    public static class UnixSocketFiles
    {
        public const int RemovedStale = 1301;
        public const int Removed = 1302;
        public const int RemoveFailed = 1303;
    }

    public static class DraRequestHandler
    {
        public const int ClaimRejected = 2001;
        public const int TooManyClaims = 2002;
        public const int PipelineFailed = 2003;
        public const int UnrequestedResult = 2004;
    }

    public static class GrpcMetricsInterceptor
    {
        public const int Unexpected = 2101;
    }

    public static class RegistrationService
    {
        public const int GetInfo = 2201;
        public const int Registered = 2202;
        public const int Rejected = 2203;
    }

    public static class DraResourceHealthService
    {
        public const int StreamOpened = 4001;
        public const int StreamClosed = 4002;
    }

    public static class GpuHealthMonitor
    {
        public const int Unhealthy = 4010;
        public const int NonFatal = 4011;
        public const int Recovered = 4012;
        public const int WatchFailed = 4013;
        public const int EnumerateFailed = 4014;
    }

    public static class HealthWithdrawalService
    {
        public const int Withdrawn = 4020;
        public const int Returned = 4021;
        public const int Recovered = 4022;
        public const int PassFailed = 4023;
        public const int PublishPending = 4024;
    }

    public static class ResourceSlicePublisher
    {
        public const int Published = 4100;
        public const int ReconcileFailed = 4101;
        public const int NoOwner = 4102;
        public const int TaintsRejected = 4103;
        public const int NotPublishing = 4104;
        public const int CountersRejected = 6400;
    }

    public static class PipelineStartup
    {
        public const int Ready = 4300;
        public const int Rebooted = 4301;
        public const int RolledBack = 4302;
        public const int KeptDirty = 4303;
        public const int UnknownDevice = 4304;
        public const int Leftover = 4305;
        public const int NoBootId = 4306;
        public const int NoCheckpoint = 4307;
        public const int ScrubbingUnproven = 4308;
        public const int UnprovenStillDirty = 4309;
    }

    public static class ClaimPipeline
    {
        public const int Prepared = 4400;
        public const int PrepareFailed = 4401;
        public const int ConfigRejected = 4402;
        public const int Released = 4403;
        public const int Withdrawn = 4404;
        public const int UnprepareFailed = 4405;
        public const int UnknownClaimDevicesDirty = 4406;
        public const int UnknownClaimUnchecked = 4407;
    }

    /// <summary>A prepared claim's CDI spec written again (range 7440-7459).</summary>
    public static class CdiSpecRestore
    {
        public const int Restored = 7440;
        public const int Unrestorable = 7441;
        public const int RestoreFailed = 7442;
        public const int InstanceUnreadable = 8050;
        public const int StaleRemoved = 8051;
    }

    public static class ScrubRetryService
    {
        public const int Returned = 4500;
        public const int StillDirty = 4501;
        public const int MigCheckFailed = 4502;
        public const int DoubtMovedToSlices = 7210;
    }

    public static class StaleClaimReaper
    {
        public const int Stale = 4600;
        public const int Skipped = 4601;
        public const int Stopped = 4602;
    }

    public static class NodeHardeningMonitor
    {
        public const int Open = 4700;
        public const int Advisory = 4701;
        public const int Closed = 4702;
        public const int Withheld = 4703;
        public const int Published = 4704;
    }

    public static class NodeEvents
    {
        public const int EventFailed = 4710;
    }

    public static class MigModeMonitor
    {
        public const int Withdrawn = 4720;
        public const int MigOff = 4721;
    }

    public static class ProcessCrashInjector
    {
        public const int Crashing = 4900;
    }

    public static class ConfidentialComputeMonitor
    {
        public const int NotReady = 6404;
        public const int Ready = 6405;
        public const int ReadFailed = 6406;
        public const int DevToolsOn = 7000;
        public const int DevToolsOff = 7001;
    }

    public static class MigSlicePublication
    {
        public const int Fallback = 6401;
    }

    public static class MigPartitionSetup
    {
        public const int Partitioned = 6402;
        public const int NotPartitioned = 6403;
    }

    public static class KubeletRegistryGuard
    {
        public const int SlowRegistration = 6021;
        public const int Rival = 6020;
    }

    public static class KubeletRegistrationGate
    {
        public const int Published = 6000;
        public const int Withdrawn = 6001;
    }

    public static class ProxyTaintPublisher
    {
        public const int Applied = 6040;
        public const int Removed = 6041;
        public const int WriteFailed = 6042;
        public const int ReconcileFailed = 6043;
    }

    public static class ProxyClaimPipeline
    {
        public const int Prepared = 6030;
        public const int PrepareFailed = 6031;
        public const int ConfigRejected = 6032;
        public const int UnrequestedAnswer = 6033;
        public const int UndoFailed = 6034;
        public const int Released = 6035;
        public const int Withdrawn = 6036;
        public const int UnprepareFailed = 6037;
    }

    public static class VendorRegistry
    {
        public const int Accepted = 6010;
        public const int Refused = 6011;
        public const int GetInfoFailed = 6012;
        public const int Unreachable = 6013;
        public const int ReachableAgain = 6014;
        public const int NotifyFailed = 6015;
        public const int PublishFailed = 6017;
        public const int ReconcileFailed = 6016;
    }

    public static class VendorHealthWatcher
    {
        public const int Following = 6050;
        public const int StreamEnded = 6051;
    }

    /// <summary>Dynamic MIG: instances created at Prepare, scrubbed then destroyed at release and at start-up (range 6900-6949).</summary>
    public static class MigInstanceLifecycle
    {
        public const int Created = 6900;
        public const int CreateFailed = 6901;
        public const int Destroyed = 6902;
        public const int DestroyRefused = 6903;
        public const int KeptAfterFailedScrub = 6904;
        public const int TemporaryInstance = 6905;
        public const int Adopted = 6906;
        public const int AdoptedUuidMismatch = 6907;
        public const int FoundUnrecorded = 6908;
        public const int RecoveryScrubbed = 6909;
        public const int RecoveryStillDirty = 6910;
        public const int InstancesUnreadable = 6911;
        public const int UnknownProfile = 6912;
        public const int HeldOverlap = 6913;
        public const int PrepareAbandoned = 6914;
        public const int DoubtMovedToSlices = 6915;
    }

    /// <summary>Static MIG start-up: a GPU without proof proves its existing instances one by one (range 7200-7249).</summary>
    public static class MigStaticRecovery
    {
        public const int DoubtMovedToSlices = 7200;
        public const int InstanceProven = 7201;
        public const int InstanceStillWithdrawn = 7202;
        public const int UncoveredSlices = 7203;
    }

    public static class StartupMemoryTrim
    {
        public const int Trimmed = 7300;
        public const int Failed = 7301;
    }

    /// <summary>The GC trim once the plugin is idle after calls (range 7460-7479).</summary>
    public static class IdleMemoryTrim
    {
        public const int Trimmed = 7460;
    }
}
