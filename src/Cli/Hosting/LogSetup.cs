using System.CommandLine;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace SecureDra.Cli.Hosting;

/// <summary>
/// Serilog for every long-running subcommand: JSON lines (one event per line, named properties) when
/// stderr is not a terminal, as in a cluster; readable text on a terminal. <c>--log-format</c> overrides.
/// </summary>
internal static class LogSetup
{
    public static Option<string> CreateOption() =>
        EnvOption.Create("--log-format", "LOG_FORMAT", "Log format: json or text", Console.IsErrorRedirected ? "json" : "text");

    public static bool IsValidFormat(string format) => format is "json" or "text";

    public static Logger CreateLogger(string format)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting", LogEventLevel.Warning)
            .MinimumLevel.Override("Grpc", LogEventLevel.Warning)
            .Enrich.FromLogContext();
        configuration = format == "json"
            ? configuration.WriteTo.Console(new RenderedCompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose)
            : configuration.WriteTo.Console(
                outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        return configuration.CreateLogger();
    }
}
