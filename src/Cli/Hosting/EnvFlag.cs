using System.CommandLine;

namespace SecureDra.Cli.Hosting;

/// <summary>
/// A boolean flag under the same environment scheme as <see cref="EnvOption"/> (<c>--foo</c> ↔ <c>SECUREDRA_FOO</c>,
/// legacy names read with a warning). The variable follows the executable's one boolean rule
/// (<see cref="FlagParsing.TryBool"/>); anything else is a usage error naming the variable, never a silent false.
/// </summary>
internal sealed class EnvFlag : Option<bool>
{
    private EnvFlag(string name, string description, string[] legacy)
        : base(name)
    {
        Variable = EnvOption.VariableFor(name);
        LegacyVariables = legacy;
        Description = $"{description} (env {Variable})";
        DefaultValueFactory = result =>
        {
            var (variable, text) = FromEnvironment(out _);
            if (text is null)
            {
                return false;
            }

            if (FlagParsing.TryBool(text) is { } value)
            {
                return value;
            }

            result.AddError($"{variable}: must be true or false, got \"{text}\"");
            return false;
        };
    }

    public string Variable { get; }

    public IReadOnlyList<string> LegacyVariables { get; }

    public static EnvFlag Create(string name, string description, params string[] legacy) => new(name, description, legacy);

    /// <summary>The legacy variable this invocation took its value from, if any.</summary>
    public string? LegacyInUse(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        if (parseResult.GetResult(this) is { Implicit: false })
        {
            return null;
        }

        FromEnvironment(out var legacy);
        return legacy;
    }

    private (string Variable, string? Text) FromEnvironment(out string? legacyUsed)
    {
        legacyUsed = null;
        if (EnvOption.NonEmpty(Environment.GetEnvironmentVariable(Variable)) is { } value)
        {
            return (Variable, value);
        }

        foreach (var legacy in LegacyVariables)
        {
            if (EnvOption.NonEmpty(Environment.GetEnvironmentVariable(legacy)) is { } old)
            {
                legacyUsed = legacy;
                return (legacy, old);
            }
        }

        return (Variable, null);
    }
}
