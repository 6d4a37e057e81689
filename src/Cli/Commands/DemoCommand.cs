using System.CommandLine;
using System.Globalization;
using SecureDra.Cli.Demo;
using SecureDra.Cli.Hosting;

namespace SecureDra.Cli.Commands;

internal static class DemoCommand
{
    public static Command Create()
    {
        var keepRunning = new Option<bool>("--keep-running") { Description = "Leave the API server and plugin up afterwards, for kubectl" };
        var gpus = EnvOption.Flag("--simulated-gpus", "Number of simulated GPUs", "4", "SIMULATED_GPUS");
        var memory = EnvOption.Flag("--simulated-memory", "Memory per simulated GPU", "64Mi", "SIMULATED_MEMORY");
        var version = EnvOption.Flag("--kubernetes-version", "Kubernetes version the local API server stands in for: 1.34, 1.35 or 1.36", "1.36", "KUBERNETES_VERSION");
        var workDir = EnvOption.OptionalFlag("--work-dir", "Directory for sockets, CDI specs, checkpoint, simulated VRAM and logs (default: a new temp dir)", "DEMO_WORK_DIR");
        var listen = EnvOption.Flag("--listen", "Address of the local API server", "127.0.0.1:0", "DEMO_LISTEN");
        var mode = EnvOption.Flag("--mode", "plugin: SecureDra's kubelet plugin; proxy: the driver proxy in front of a simulated vendor plugin that does not scrub; mig: the plugin with --mig-mode static on one simulated H100 in MIG mode, two tenants on two of its instances", "plugin");
        var verbose = new Option<bool>("--verbose") { Description = "Print whole objects (the CDI spec) instead of their summaries" };
        var command = new Command("demo", "Run the end-to-end demo on simulated GPUs, no cluster needed: registration, slices, a tenant's claim, a canary in VRAM, the scrub on release, a second tenant who finds nothing, and a GPU failure.")
        {
            keepRunning, gpus, memory, version, workDir, listen, verbose, mode,
        };
        command.SetAction(async (parseResult, ct) =>
        {
            if (OperatingSystem.IsWindows())
            {
                return CliInvocation.UsageError(command, "runs on Linux only");
            }

            var gpuText = parseResult.GetValue(gpus)!;
            if (!int.TryParse(gpuText, NumberStyles.None, CultureInfo.InvariantCulture, out var gpuCount) || gpuCount < 2 || gpuCount > 64)
            {
                return CliInvocation.UsageError(command, $"--simulated-gpus: must be an integer from 2 to 64, got \"{gpuText}\"");
            }

            var memoryText = parseResult.GetValue(memory)!;
            if (GpuBackendFlags.ParseSize(memoryText) is not { } bytes || bytes < 1 << 20 || bytes > 4L << 30)
            {
                return CliInvocation.UsageError(command, $"--simulated-memory: must be a size from 1Mi to 4Gi, got \"{memoryText}\"");
            }

            var kube = parseResult.GetValue(version)!;
            if (kube is not ("1.34" or "1.35" or "1.36"))
            {
                return CliInvocation.UsageError(command, $"--kubernetes-version: the demo speaks resource.k8s.io/v1, so 1.34, 1.35 or 1.36, got \"{kube}\" (the compatibility tests cover 1.32 and 1.33)");
            }

            var modeText = parseResult.GetValue(mode)!;
            if (modeText is not ("plugin" or "proxy" or "mig"))
            {
                return CliInvocation.UsageError(command, $"--mode: must be plugin, proxy or mig, got \"{modeText}\"");
            }

            if (modeText == "mig" && parseResult.GetResult(gpus) is { Implicit: false })
            {
                return CliInvocation.UsageError(command, "--simulated-gpus: --mode mig runs one GPU in MIG mode; leave the flag out");
            }

            // Only a valid invocation warns: a usage error stays one line.
            EnvOption.WarnDeprecated(parseResult, Console.Error);
            var options = new DemoOptions(parseResult.GetValue(keepRunning), gpuCount, bytes, kube, parseResult.GetValue(workDir), parseResult.GetValue(listen)!, parseResult.GetValue(verbose), modeText switch { "proxy" => DemoMode.Proxy, "mig" => DemoMode.Mig, _ => DemoMode.Plugin });
            try
            {
                return await new DemoScenario(options, Console.Out).RunAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return 130;
            }
#pragma warning disable CA1031 // The demo reports any failure as one line and exit code 1.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                await Console.Error.WriteLineAsync($"securedra demo: {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }
}
