namespace SecureDra.LocalCluster;

/// <summary>
/// Every log event ID of this assembly, in one place (as YARP's Utilities/EventIds): the key operators filter and
/// alert on. Grouped by the class that logs it; the [LoggerMessage] declarations sit in <c>*.Log.cs</c> files beside
/// that class. An ID means one message across the whole product: tests/Cli.Tests/EventIdRegistryTests checks it
/// over every assembly.
/// </summary>
internal static class EventIds
{
    public static class KubeletEmulator
    {
        public const int Registered = 9001;
        public const int Refused = 9002;
        public const int Deregistered = 9003;
        public const int NotifyFailed = 9004;
        public const int EventQueueFull = 7250;
    }

    public static class SimulatedVendorPlugin
    {
        public const int Started = 6800;
        public const int Prepared = 6801;
        public const int Unprepared = 6802;
    }

    public static class LocalApiServerLog
    {
        public const int Listening = 6540;
    }
}
