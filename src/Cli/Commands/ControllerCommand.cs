using System.CommandLine;

namespace SecureDra.Cli.Commands;

internal static class ControllerCommand
{
    public static Command Create()
    {
        var command = new Command("controller", "Run the cluster controller: admission webhook and hardening auditor.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("controller: not implemented yet");
            return 2;
        });
        return command;
    }
}
