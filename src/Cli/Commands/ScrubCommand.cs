using System.CommandLine;

namespace SecureDra.Cli.Commands;

internal static class ScrubCommand
{
    public static Command Create()
    {
        var command = new Command("scrub", "Scrub and verify GPU memory now, and print the report.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("scrub: not implemented yet");
            return 2;
        });
        return command;
    }
}
