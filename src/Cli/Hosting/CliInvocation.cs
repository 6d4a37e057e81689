using System.CommandLine;

namespace SecureDra.Cli.Hosting;

/// <summary>
/// Runs the command line with one rule for bad input: a one-line error on stderr and exit code 2
/// (unknown flag, missing value, or a value a command rejects with <see cref="UsageError"/>).
/// </summary>
internal static class CliInvocation
{
    public const int UsageExitCode = 2;

    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            return UsageError(parseResult.CommandResult.Command, parseResult.Errors[0].Message);
        }

        return await parseResult.InvokeAsync().ConfigureAwait(false);
    }

    /// <summary>Writes <c>securedra &lt;command&gt;: &lt;message&gt;</c> on one line and returns 2.</summary>
    public static int UsageError(Command command, string message)
    {
        ArgumentNullException.ThrowIfNull(command);
        var name = command is RootCommand ? "securedra" : $"securedra {command.Name}";
        Console.Error.WriteLine($"{name}: {message.ReplaceLineEndings(" ")}");
        return UsageExitCode;
    }
}
