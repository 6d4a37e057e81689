using System.CommandLine;

namespace SecureDra.Cli.Commands;

internal static class AuditCommand
{
    public static Command Create()
    {
        var command = new Command("audit", "Audit a cluster or a directory of manifests against the hardening baseline.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("audit: not implemented yet");
            return 2;
        });
        return command;
    }
}
