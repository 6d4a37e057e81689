using System.CommandLine;
using System.Globalization;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;

namespace SecureDra.Cli.Hosting;

/// <summary>
/// The one log set-up of every subcommand that logs (kubelet-plugin, controller, scrub, canary, demo): the same
/// flags (<c>--log-format</c>, alias <c>--logging-format</c>; <c>--log-level</c>; <c>-v</c>/<c>-v=N</c>/<c>--v=N</c> as
/// Kubernetes components take it) and the same JSON line shape (<see cref="JsonFormatter"/>), so one log pipeline
/// parses them all. JSON when stderr is not a terminal, as in a cluster; readable text on a terminal.
/// </summary>
/// <remarks>
/// Framework categories (ASP.NET Core, hosting, Kestrel, gRPC, HttpClient) log at Warning and above only: their
/// start-up banners and per-request lines would otherwise drown the product's own events; <c>-v=4</c> (trace)
/// lets them through for debugging. The product's own events are all <c>[LoggerMessage]</c> with an EventId.
/// </remarks>
internal sealed class LogSetup
{
    /// <summary>Categories whose Information lines are framework noise (one line per HTTP request, "Now listening on", …).</summary>
    private static readonly string[] FrameworkCategories = ["Microsoft", "System", "Grpc"];

    public EnvOption Format { get; } = CreateFormat();

    public EnvOption Level { get; } = EnvOption.Flag(
        "--log-level", "Least severe level logged: trace, debug, info, warning, error or critical", "info");

    public Option<string?> Verbosity { get; } = new("-v", "--v")
    {
        Description = "Kubernetes-style verbosity, -v=N: 0 info, 1-3 debug, 4 and more trace (framework lines too); -v alone is -v=1. Overrides --log-level",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Format);
        command.Options.Add(Level);
        command.Options.Add(Verbosity);
    }

    /// <summary>The settings the flags (else environment, else defaults) ask for; <see cref="FormatException"/> names the flag.</summary>
    public LogSettings Bind(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var format = parseResult.GetValue(Format)!;
        if (!IsValidFormat(format))
        {
            throw new FormatException($"--log-format: \"{Clip(format)}\" is not one of json, text");
        }

        LogEventLevel level;
        if (parseResult.GetResult(Verbosity) is { Implicit: false })
        {
            var text = parseResult.GetValue(Verbosity);
            level = ParseVerbosity(string.IsNullOrEmpty(text) ? "1" : text)
                ?? throw new FormatException($"-v: \"{Clip(text ?? "")}\" is not an integer from 0 to 10");
        }
        else
        {
            var text = parseResult.GetValue(Level)!;
            level = ParseLevel(text)
                ?? throw new FormatException($"--log-level: \"{Clip(text)}\" is not one of trace, debug, info, warning, error, critical");
        }

        return new LogSettings(format, level);
    }

    public static bool IsValidFormat(string format) => format is "json" or "text";

    /// <summary>An echoed value stays short: the error is one line however long the input was.</summary>
    private static string Clip(string value) => value.Length <= 64 ? value : value[..64] + "…";

    /// <summary>Kubernetes verbosity onto levels: 0 is the default (info), 1-3 add debug detail, 4+ everything.</summary>
    public static LogEventLevel? ParseVerbosity(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v <= 10
            ? v switch { 0 => LogEventLevel.Information, < 4 => LogEventLevel.Debug, _ => LogEventLevel.Verbose }
            : null;

    public static LogEventLevel? ParseLevel(string text) => text.Trim().ToLowerInvariant() switch
    {
        "trace" or "verbose" => LogEventLevel.Verbose,
        "debug" => LogEventLevel.Debug,
        "info" or "information" => LogEventLevel.Information,
        "warn" or "warning" => LogEventLevel.Warning,
        "error" => LogEventLevel.Error,
        "critical" or "fatal" => LogEventLevel.Fatal,
        _ => null,
    };

    /// <summary>
    /// Every JSON log line: <c>@t</c> (UTC timestamp), <c>@m</c> (the rendered message), <c>@i</c> (a hash of the
    /// template), <c>@l</c> (level, absent for Information), <c>@x</c> (exception, when any), then the event's named
    /// properties, <c>EventId</c> (<c>{"Id":…,"Name":…}</c>) and <c>SourceContext</c> (the logging class).
    /// </summary>
    public static ITextFormatter JsonFormatter { get; } = new RenderedCompactJsonFormatter();

    /// <summary>A logger to stderr with these settings (every line on stderr, so stdout stays the command's output).</summary>
    public static Logger CreateLogger(LogSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var configuration = Configure(new LoggerConfiguration(), settings.Level);
        configuration = settings.Format == "json"
            ? configuration.WriteTo.Console(JsonFormatter, standardErrorFromLevel: LogEventLevel.Verbose)
            : configuration.WriteTo.Console(
                outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose,
                formatProvider: CultureInfo.InvariantCulture);
        return configuration.CreateLogger();
    }

    /// <summary>A JSON logger into <paramref name="writer"/> (the demo's log file), same shape and filters.</summary>
    public static Logger CreateLogger(TextWriter writer, LogEventLevel level)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return Configure(new LoggerConfiguration(), level).WriteTo.Sink(new TextWriterSink(writer)).CreateLogger();
    }

    /// <summary>Writes one structured warning per legacy environment variable the invocation read.</summary>
    public static void WarnDeprecated(ParseResult parseResult, Microsoft.Extensions.Logging.ILogger logger)
    {
        foreach (var (legacy, replacement) in EnvOption.DeprecatedInUse(parseResult))
        {
            CliLog.DeprecatedEnvironmentVariable(logger, legacy, replacement);
        }
    }

    private static LoggerConfiguration Configure(LoggerConfiguration configuration, LogEventLevel level)
    {
        configuration = configuration.MinimumLevel.Is(level).Enrich.FromLogContext();
        var frameworkLevel = level == LogEventLevel.Verbose ? LogEventLevel.Verbose : (LogEventLevel)Math.Max((int)level, (int)LogEventLevel.Warning);
        foreach (var category in FrameworkCategories)
        {
            configuration = configuration.MinimumLevel.Override(category, frameworkLevel);
        }

        return configuration;
    }

    private static EnvOption CreateFormat()
    {
        var option = EnvOption.Flag("--log-format", "Log format: json or text", Console.IsErrorRedirected ? "json" : "text", "LOG_FORMAT");
        option.Aliases.Add("--logging-format");
        return option;
    }
}

/// <summary>Writes each event as one JSON line into a writer (the demo's log file); one line at a time.</summary>
internal sealed class TextWriterSink(TextWriter writer) : ILogEventSink
{
    private readonly Lock _lock = new();

    public void Emit(LogEvent logEvent)
    {
        lock (_lock)
        {
            LogSetup.JsonFormatter.Format(logEvent, writer);
        }
    }
}

/// <summary>What <see cref="LogSetup.Bind"/> read: <c>json</c>/<c>text</c> and the least severe level written.</summary>
internal sealed record LogSettings(string Format, LogEventLevel Level);
