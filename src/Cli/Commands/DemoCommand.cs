using System.CommandLine;

namespace SecureDra.Cli.Commands;

internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Run the end-to-end demo on simulated GPUs, no cluster needed.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("demo: not implemented yet");
            return 2;
        });
        return command;
    }
}
