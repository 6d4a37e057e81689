using System.CommandLine;
using System.Globalization;

namespace SecureDra.Cli.Hosting;

/// <summary>
/// A string flag that can also be set by an environment variable, with ONE naming scheme for the whole
/// executable: <c>--foo-bar</c> ↔ <c>SECUREDRA_FOO_BAR</c> (<see cref="VariableFor"/>). Exceptions are the names
/// other Kubernetes components already give these settings (<see cref="Upstream"/>: NODE_NAME, KUBECONFIG,
/// CDI_ROOT, KUBELET_*_DIRECTORY_PATH, POD_*), so a DaemonSet written for the upstream driver or the
/// downward API keeps working. A flag on the command line wins over the variable, the variable over the default.
/// Names used before the scheme are still read, after the scheme's name, and reported by
/// <see cref="DeprecatedInUse"/> so the command can warn once.
/// </summary>
/// <remarks>
/// The default is stated once: the description names the variable, "(env X)", and the help's own
/// "[default: …]" gives the value that applies when the flag is absent (the variable's, else the built-in one).
/// </remarks>
internal sealed class EnvOption : Option<string?>
{
    public const string Prefix = "SECUREDRA_";

    private EnvOption(string name, string variable, string description, string? defaultValue, string[] legacy)
        : base(name)
    {
        Variable = variable;
        Default = defaultValue;
        LegacyVariables = legacy;
        Description = $"{description.TrimEnd('.')} (env {variable})";
        DefaultValueFactory = argument => FromEnvironment(out _) ?? Default;
    }

    /// <summary>The variable the scheme (or the upstream convention) reads for this flag.</summary>
    public string Variable { get; }

    /// <summary>Names this flag's variable had before the scheme; still read, with a warning.</summary>
    public IReadOnlyList<string> LegacyVariables { get; }

    public string? Default { get; }

    /// <summary><c>--foo-bar</c> → <c>SECUREDRA_FOO_BAR</c>.</summary>
    public static string VariableFor(string flag)
    {
        ArgumentNullException.ThrowIfNull(flag);
        return Prefix + flag.TrimStart('-').Replace('-', '_').ToUpperInvariant();
    }

    /// <summary>A flag with a default; its variable is <see cref="VariableFor"/> of its name.</summary>
    /// <remarks>
    /// Replaces the former <c>Create(name, variable, description, default)</c>. The arguments changed meaning, so the
    /// old name is gone: a call written against it fails to compile instead of binding a variable name as a description.
    /// </remarks>
    public static EnvOption Flag(string name, string description, string defaultValue, params string[] legacy) =>
        new(name, VariableFor(name), description, defaultValue, legacy);

    /// <summary>A flag without a default (its value is null when neither the flag nor a variable is set).</summary>
    public static EnvOption OptionalFlag(string name, string description, params string[] legacy) =>
        new(name, VariableFor(name), description, null, legacy);

    /// <summary>A flag read from the variable other Kubernetes components use for it, not from the scheme's name.</summary>
    public static EnvOption Upstream(string name, string variable, string description, string? defaultValue = null) =>
        new(name, variable, description, defaultValue, []);

    /// <summary>True when the value was given on the command line, not taken from the environment or the default.</summary>
    public bool OnCommandLine(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        return parseResult.GetResult(this) is { Implicit: false };
    }

    /// <summary>The legacy variable this invocation took its value from, if any (the flag and the new name unset).</summary>
    public string? LegacyInUse(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        if (OnCommandLine(parseResult))
        {
            return null;
        }

        FromEnvironment(out var legacy);
        return legacy;
    }

    /// <summary>Every legacy variable the parsed command read, as (old, new) pairs, for one warning each.</summary>
    public static IReadOnlyList<(string Legacy, string Replacement)> DeprecatedInUse(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var found = new List<(string, string)>();
        foreach (var option in parseResult.CommandResult.Command.Options)
        {
            if (option is EnvOption env && env.LegacyInUse(parseResult) is { } legacy)
            {
                found.Add((legacy, env.Variable));
            }
            else if (option is EnvFlag flag && flag.LegacyInUse(parseResult) is { } legacyFlag)
            {
                found.Add((legacyFlag, flag.Variable));
            }
        }

        return found;
    }

    /// <summary>Writes one line per legacy variable in use on stderr (for commands that write no structured log).</summary>
    public static void WarnDeprecated(ParseResult parseResult, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        foreach (var (legacy, replacement) in DeprecatedInUse(parseResult))
        {
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"securedra {parseResult.CommandResult.Command.Name}: environment variable {legacy} is deprecated; use {replacement}"));
        }
    }

    private string? FromEnvironment(out string? legacyUsed)
    {
        legacyUsed = null;
        if (NonEmpty(Environment.GetEnvironmentVariable(Variable)) is { } value)
        {
            return value;
        }

        foreach (var legacy in LegacyVariables)
        {
            if (NonEmpty(Environment.GetEnvironmentVariable(legacy)) is { } old)
            {
                legacyUsed = legacy;
                return old;
            }
        }

        return null;
    }

    internal static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
