using System.CommandLine;

namespace SecureDra.Cli.Commands;

internal static class KubeletPluginCommand
{
    public static Command Create()
    {
        var command = new Command("kubelet-plugin", "Run the node daemon: kubelet registration, DRA gRPC, ResourceSlices, prepare/unprepare with VRAM scrub.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("kubelet-plugin: not implemented yet");
            return 2;
        });
        return command;
    }
}
