namespace SecureDra.Cli;

/// <summary>
/// Every log event ID of this assembly, in one place (as YARP's Utilities/EventIds): the key operators filter and
/// alert on. Grouped by the class that logs it; the [LoggerMessage] declarations sit in <c>*.Log.cs</c> files beside
/// that class. An ID means one message across the whole product: tests/Cli.Tests/EventIdRegistryTests checks it
/// over every assembly.
/// </summary>
internal static class EventIds
{
    public static class CliLog
    {
        public const int DeprecatedEnvironmentVariable = 6500;
    }
}
