using System.CommandLine;

namespace SecureDra.Cli.Commands;

internal static class ValidateCommand
{
    public static Command Create()
    {
        var command = new Command("validate", "Validate ResourceClaim, ResourceClaimTemplate, DeviceClass YAML or raw GpuConfig JSON offline.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("validate: not implemented yet");
            return 2;
        });
        return command;
    }
}
