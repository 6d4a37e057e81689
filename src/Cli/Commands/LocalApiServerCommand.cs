using System.CommandLine;

namespace SecureDra.Cli.Commands;

internal static class LocalApiServerCommand
{
    public static Command Create()
    {
        var command = new Command("local-apiserver", "Run the in-memory local Kubernetes API server stand-in (demo and tests only; never in a cluster).");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("local-apiserver: not implemented yet");
            return 2;
        });
        return command;
    }
}
