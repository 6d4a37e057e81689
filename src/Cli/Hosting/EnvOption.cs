using System.CommandLine;

namespace SecureDra.Cli.Hosting;

/// <summary>Options whose default comes from an environment variable, so every flag can also be set by the DaemonSet's env.</summary>
internal static class EnvOption
{
    public static Option<string> Create(string name, string environmentVariable, string description, string defaultValue) =>
        new(name)
        {
            Description = $"{description} (env {environmentVariable}; default {defaultValue})",
            DefaultValueFactory = _ => NonEmpty(Environment.GetEnvironmentVariable(environmentVariable)) ?? defaultValue,
        };

    public static Option<string?> CreateOptional(string name, string environmentVariable, string description) =>
        new(name)
        {
            Description = $"{description} (env {environmentVariable})",
            DefaultValueFactory = _ => NonEmpty(Environment.GetEnvironmentVariable(environmentVariable)),
        };

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
