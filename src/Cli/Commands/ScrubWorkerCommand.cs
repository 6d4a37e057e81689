using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace SecureDra.Cli.Commands;

/// <summary>
/// <c>securedra scrub-worker</c> (hidden; started by the kubelet plugin's MigInstanceScrubber, documented in docs/mig.md):
/// scrubs the one MIG instance that <c>CUDA_VISIBLE_DEVICES</c> names, after checking it sees exactly the instance given
/// by <c>--instance-uuid</c> (of <c>--parent-uuid</c>, GPU instance <c>--gpu-instance-id</c>), and writes one JSON report
/// (<see cref="MigScrubWorkerReport"/>, at most 8 KiB) to stdout. Logs go to stderr as compact JSON. Exit codes: 0 scrubbed
/// and verified; 1 the scrub failed or was refused (processes on the instance); 2 bad flags; 3 not exactly the expected
/// device visible (nothing was touched).
/// </summary>
internal static class ScrubWorkerCommand
{
    public static Command Create()
    {
        var instanceUuid = new Option<string?>("--instance-uuid") { Description = "MIG UUID the worker must see as its only device (MIG-…)" };
        var parentUuid = new Option<string?>("--parent-uuid") { Description = "UUID of the instance's parent GPU (GPU-…)" };
        var gpuInstanceId = new Option<string?>("--gpu-instance-id") { Description = "GPU-instance id of the instance on its parent" };
        var timeout = new Option<string?>("--timeout-seconds") { Description = "Scrub deadline in seconds, 1 to 3600 (default 300)" };
        var gpu = new GpuBackendFlags();
        var command = new Command("scrub-worker", "Scrub the one MIG instance CUDA_VISIBLE_DEVICES names and print a JSON report (started by the kubelet plugin).")
        {
            instanceUuid,
            parentUuid,
            gpuInstanceId,
            timeout,
        };
        command.Hidden = true;
        gpu.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            GpuBackendOptions options;
            MigScrubWorkerRequest request;
            TimeSpan deadline;
            try
            {
                options = gpu.Bind(parseResult, Path.Combine(new KubeletPluginOptions().PluginDataDirectory, "simulated-vram"));
                var uuid = Required(parseResult.GetValue(instanceUuid), "--instance-uuid");
                if (!uuid.StartsWith("MIG-", StringComparison.Ordinal) || uuid.Length > 96)
                {
                    throw new ArgumentException($"--instance-uuid: must be a MIG UUID (MIG-…, at most 96 characters), got \"{Short(uuid)}\"");
                }

                var parent = Required(parseResult.GetValue(parentUuid), "--parent-uuid");
                var giText = Required(parseResult.GetValue(gpuInstanceId), "--gpu-instance-id");
                if (!int.TryParse(giText, NumberStyles.None, CultureInfo.InvariantCulture, out var gi) || gi > 64)
                {
                    throw new ArgumentException($"--gpu-instance-id: must be an integer from 0 to 64, got \"{Short(giText)}\"");
                }

                var timeoutText = parseResult.GetValue(timeout) ?? "300";
                if (!int.TryParse(timeoutText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 3600)
                {
                    throw new ArgumentException($"--timeout-seconds: must be an integer from 1 to 3600, got \"{Short(timeoutText)}\"");
                }

                request = new MigScrubWorkerRequest(uuid, parent, gi);
                deadline = TimeSpan.FromSeconds(seconds);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"scrub-worker: {e.Message}").ConfigureAwait(false);
                return MigScrubWorker.ExitUsage;
            }

            var serilog = new LoggerConfiguration()
                .MinimumLevel.Information()
                .WriteTo.Console(new CompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose)
                .CreateLogger();
            using var loggers = LoggerFactory.Create(b => b.AddSerilog(serilog, dispose: true));
            var worker = new MigScrubWorker(options, TimeProvider.System, loggers);
            var (exitCode, report) = await worker.RunAsync(request, Environment.GetEnvironmentVariable(MigScrubWorker.VisibleDevicesVariable), deadline, cancellationToken).ConfigureAwait(false);
            await Console.Out.WriteAsync(JsonSerializer.Serialize(report, MigScrubWorkerReportJsonContext.Default.MigScrubWorkerReport)).ConfigureAwait(false);
            await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            return exitCode;
        });
        return command;
    }

    private static string Required(string? value, string flag) =>
        string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"{flag}: required") : value;

    private static string Short(string value) => value.Length > 100 ? value[..100] + "…" : value;
}
