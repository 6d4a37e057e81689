using System.CommandLine;
using SecureDra.Cli.Commands;

// One executable, one subcommand per component. Each subcommand owns its flags in its own file.
var root = new RootCommand("SecureDra: a hardened Kubernetes DRA driver for NVIDIA GPUs.")
{
    KubeletPluginCommand.Create(),
    ControllerCommand.Create(),
    LocalApiServerCommand.Create(),
    DemoCommand.Create(),
    ValidateCommand.Create(),
    AuditCommand.Create(),
    ScrubCommand.Create(),
};

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
