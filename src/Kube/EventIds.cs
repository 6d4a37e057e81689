namespace SecureDra.Kube;

/// <summary>
/// Every log event ID of this assembly, in one place (as YARP's Utilities/EventIds): the key operators filter and
/// alert on. Grouped by the class that logs it; the [LoggerMessage] declarations sit in <c>*.Log.cs</c> files beside
/// that class. An ID means one message across the whole product: tests/Cli.Tests/EventIdRegistryTests checks it
/// over every assembly.
/// </summary>
internal static class EventIds
{
    public static class KubeApiClient
    {
        public const int TransportFailure = 1001;
        public const int ApiError = 1002;
        public const int TokenRejected = 1003;
    }

    public static class ResourceApi
    {
        public const int Negotiated = 1101;
        public const int NoneServed = 1102;
        public const int VersionGone = 1103;
    }

    public static class KubeEventRecorder
    {
        public const int Suppressed = 1201;
        public const int Failed = 1202;
    }

    public static class DeviceTaintRuleWriter
    {
        public const int Applied = 6200;
        public const int Removed = 6201;
        public const int NotServed = 6202;
        public const int Forbidden = 6203;
    }
}
