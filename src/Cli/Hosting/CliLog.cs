using Microsoft.Extensions.Logging;

namespace SecureDra.Cli.Hosting;

/// <summary>The command line's own log events (IDs 6500-6519).</summary>
internal static partial class CliLog
{
    [LoggerMessage(EventId = EventIds.CliLog.DeprecatedEnvironmentVariable, EventName = "DeprecatedEnvironmentVariable", Level = LogLevel.Warning,
        Message = "Environment variable {Legacy} is deprecated and will be removed; set {Replacement} instead (it was read this time)")]
    public static partial void DeprecatedEnvironmentVariable(ILogger logger, string legacy, string replacement);
}
