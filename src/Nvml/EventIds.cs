namespace SecureDra.Nvml;

/// <summary>
/// Every log event ID of this assembly, in one place (as YARP's Utilities/EventIds): the key operators filter and
/// alert on. Grouped by the class that logs it; the [LoggerMessage] declarations sit in <c>*.Log.cs</c> files beside
/// that class. An ID means one message across the whole product: tests/Cli.Tests/EventIdRegistryTests checks it
/// over every assembly.
/// </summary>
internal static class EventIds
{
    public static class CanaryLog
    {
        public const int Passed = 3101;
        public const int Failed = 3102;
        public const int Incomplete = 3103;
    }

    public static class NvidiaGpuBackend
    {
        public const int NoEvents = 3201;
        public const int ApplicationXid = 3202;
        public const int WatchFailed = 3203;
    }

    public static class SimulatedGpuBackend
    {
        public const int BadFaultFile = 3204;
    }

    public static class ScrubLog
    {
        public const int Scrubbed = 3001;
        public const int Failed = 3002;
        public const int Refused = 3003;
    }

    public static class MigScrubLog
    {
        public const int Scrubbed = 6300;
        public const int Failed = 6301;
        public const int Refused = 6304;
    }
}
