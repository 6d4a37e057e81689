using System.CommandLine;
using SecureDra.Kube.Client;
using SecureDra.Kube.Config;

namespace SecureDra.Cli.Hosting;

/// <summary>
/// Runs the command line with one rule for bad input: a one-line error on stderr and exit code 2
/// (unknown flag, missing value, a value a command rejects with <see cref="UsageError"/>, an unusable
/// kubeconfig). No stack trace ever reaches the user: an exception a command did not handle is a bug,
/// reported on one line with exit code <see cref="InternalErrorExitCode"/>, never 1 (which means "findings").
/// </summary>
internal static class CliInvocation
{
    public const int UsageExitCode = 2;

    /// <summary>EX_SOFTWARE from sysexits.h: distinct from 1 (findings / validation failed) and 2 (usage or configuration).</summary>
    public const int InternalErrorExitCode = 70;

    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        ArgumentNullException.ThrowIfNull(root);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            return UsageError(parseResult.CommandResult.Command, parseResult.Errors[0].Message);
        }

        var command = parseResult.CommandResult.Command;
        if (TestHooks.RefusedVariable() is { } refused)
        {
            return UsageError(command, refused);
        }

        try
        {
            // System.CommandLine's own handler prints the exception with its stack trace and exits 1; ours does neither.
            return await parseResult.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (KubeConfigException ex)
        {
            return UsageError(command, $"--kubeconfig: {ex.Message}");
        }
        catch (ExecCredentialException ex)
        {
            return UsageError(command, $"--kubeconfig: {ex.Message}");
        }
        catch (KubeApiException ex)
        {
            return UsageError(command, ex.Message);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C before a command installed its own handling: the shell convention for SIGINT.
            return 130;
        }
#pragma warning disable CA1031 // The last line of defence: whatever escaped a command is reported, not dumped.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await Console.Error.WriteLineAsync($"{Name(command)}: internal error (a bug; please report it): {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}").ConfigureAwait(false);
            return InternalErrorExitCode;
        }
    }

    /// <summary>Writes <c>securedra &lt;command&gt;: &lt;message&gt;</c> on one line and returns 2.</summary>
    public static int UsageError(Command command, string message)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(message);
        Console.Error.WriteLine($"{Name(command)}: {message.ReplaceLineEndings(" ")}");
        return UsageExitCode;
    }

    private static string Name(Command command) => command is RootCommand ? "securedra" : $"securedra {command.Name}";
}
