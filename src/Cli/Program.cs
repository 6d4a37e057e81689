using System.CommandLine;
using SecureDra.Cli.Commands;
using SecureDra.Cli.Hosting;

// One executable, one subcommand per component. Each subcommand owns its flags in its own file.
var root = new RootCommand("SecureDra: a hardened Kubernetes DRA driver for NVIDIA GPUs.")
{
    KubeletPluginCommand.Create(),
    ProxyCommand.Create(),
    ControllerCommand.Create(),
    LocalApiServerCommand.Create(),
    DemoCommand.Create(),
    ValidateCommand.Create(),
    AuditCommand.Create(),
    ScrubCommand.Create(),
    ScrubWorkerCommand.Create(),
    MigManagerCommand.Create(),
    CanaryCommand.Create(),
};

// Generated from the tree above, so every subcommand and flag is in the scripts.
root.Subcommands.Add(CompletionCommand.Create(root));

// Bad flags: one line on stderr, exit code 2 (CliInvocation).
return await CliInvocation.InvokeAsync(root, args).ConfigureAwait(false);
