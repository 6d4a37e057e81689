using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.Cli.Hosting;
using SecureDra.Kube.Client;
using SecureDra.Kube.Config;
using SecureDra.Kube.Events;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Nvml;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Canary;
using Serilog;

namespace SecureDra.Cli.Commands;

/// <summary>
/// <c>securedra canary</c>: the VRAM canary, run in a pod that holds one GPU claim. Checks that every byte
/// it can allocate on that GPU is zero, writes its marker before it exits (so the next run on the GPU
/// proves the release in between was scrubbed), and reports on stdout, as a structured log event
/// (stderr, JSON) and, in a pod (POD_NAME/POD_NAMESPACE), as an Event on the pod.
/// Exit codes: 0 clean, 1 non-zero bytes found, 2 usage or configuration error, 3 the check could not finish.
/// </summary>
internal static class CanaryCommand
{
    public const int ExitClean = 0;
    public const int ExitDirty = 1;
    public const int ExitUsage = 2;
    public const int ExitIncomplete = 3;

    /// <summary>How long the Event may take: an unreachable API server must not hold the Job past its verdict.</summary>
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(15);

    public static Command Create()
    {
        var device = EnvOption.OptionalFlag("--device", "The GPU to check: uuid, index or name; default: the one NVIDIA_VISIBLE_DEVICES names (set by the claim's CDI spec), else the only GPU visible", "CANARY_DEVICE");
        var timeout = EnvOption.Flag("--timeout", "Upper bound of the whole run, 1s to 1h", "10m", "CANARY_TIMEOUT");
        var maxBytes = EnvOption.Flag("--max-bytes", "Stop allocating at this size, e.g. 8Gi; 0: all the GPU gives", "0", "CANARY_MAX_BYTES");
        var kubeconfig = EnvOption.Upstream("--kubeconfig", "KUBECONFIG", "For the Event on the pod: kubeconfig path or API server URL (default: the pod's service account)");
        var podName = EnvOption.Upstream("--pod-name", "POD_NAME", "Pod to put the VramCanary Event on; no Event without it");
        var podNamespace = EnvOption.Upstream("--pod-namespace", "POD_NAMESPACE", "Namespace of that pod");
        var podUid = EnvOption.Upstream("--pod-uid", "POD_UID", "UID of that pod");
        var gpu = new GpuBackendFlags();
        var logSetup = new LogSetup();
        var command = new Command("canary", "VRAM canary: check that the claimed GPU's memory holds no non-zero byte, then leave a marker for the next run. Exit 0 clean, 1 non-zero bytes found, 2 usage, 3 could not finish.")
        {
            device, timeout, maxBytes, kubeconfig, podName, podNamespace, podUid,
        };
        gpu.AddTo(command);
        logSetup.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            GpuBackendOptions backendOptions;
            CanaryOptions options;
            LogSettings logSettings;
            EventTarget? target = null;
            KubeConnectionSettings? connection = null;
            try
            {
                backendOptions = gpu.Bind(parseResult, Path.Combine(new KubeletPluginOptions().PluginDataDirectory, "simulated-vram"));
                logSettings = logSetup.Bind(parseResult);
                var maxText = parseResult.GetValue(maxBytes)!;
                options = new CanaryOptions
                {
                    Timeout = FlagParsing.Duration("--timeout", parseResult.GetValue(timeout)!, CanaryOptions.MinTimeout, CanaryOptions.MaxTimeout) is { } t && t > TimeSpan.Zero
                        ? t
                        : throw new FormatException("--timeout: must be from 1s to 1h"),
                    MaxBytes = GpuBackendFlags.ParseSize(maxText) ?? throw new FormatException($"--max-bytes: must be a size such as 8Gi or 0, got \"{maxText}\""),
                };
                try
                {
                    options.Validate();
                }
                catch (ArgumentException e)
                {
                    // The options name their fields without dashes; on the command line they are flags.
                    throw new FormatException("--" + e.Message, e);
                }

                var pod = parseResult.GetValue(podName);
                if (pod is not null)
                {
                    var ns = parseResult.GetValue(podNamespace) ?? throw new FormatException("--pod-namespace: required with --pod-name (env POD_NAMESPACE)");
                    target = new EventTarget("v1", "Pod", FlagParsing.DnsSubdomain("--pod-name", pod), FlagParsing.DnsSubdomain("--pod-namespace", ns), parseResult.GetValue(podUid));
                    connection = KubeApiClientFactory.LoadSettings(parseResult.GetValue(kubeconfig));
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException or KubeConfigException)
            {
                return CliInvocation.UsageError(command, e.Message);
            }

            using (connection)
            {
                return await RunAsync(backendOptions, options, parseResult.GetValue(device), target, connection, command, logSettings, parseResult, cancellationToken).ConfigureAwait(false);
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(GpuBackendOptions backendOptions, CanaryOptions options, string? selector, EventTarget? target,
        KubeConnectionSettings? connection, Command command, LogSettings logSettings, ParseResult parseResult, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddSerilog(LogSetup.CreateLogger(logSettings), dispose: true));
        services.AddGpuLayer(backendOptions);
        services.AddSingleton<VramCanary>();
        await using var provider = services.BuildServiceProvider();
        LogSetup.WarnDeprecated(parseResult, provider.GetRequiredService<ILoggerFactory>().CreateLogger("SecureDra.Cli"));
        var backend = provider.GetRequiredService<IGpuBackend>();

        GpuDevice gpu;
        try
        {
            gpu = Choose(await backend.EnumerateAsync(cancellationToken).ConfigureAwait(false), selector);
        }
        catch (GpuBackendException e)
        {
            await Console.Out.WriteLineAsync($"INCOMPLETE: {e.Message}").ConfigureAwait(false);
            return ExitIncomplete;
        }
        catch (ArgumentException e)
        {
            return CliInvocation.UsageError(command, e.Message);
        }

        var report = await provider.GetRequiredService<VramCanary>().RunAsync(gpu, options, cancellationToken).ConfigureAwait(false);
        var summary = Summary(report);
        await Console.Out.WriteLineAsync(summary).ConfigureAwait(false);
        if (target is not null && connection is not null)
        {
            await RecordEventAsync(connection, target, report, summary, provider.GetRequiredService<ILoggerFactory>(), cancellationToken).ConfigureAwait(false);
        }

        return report.Verdict switch
        {
            CanaryVerdict.Clean => ExitClean,
            CanaryVerdict.Dirty => ExitDirty,
            _ => ExitIncomplete,
        };
    }

    /// <summary>--device if given; else the single UUID in NVIDIA_VISIBLE_DEVICES (what the claim's CDI spec sets); else the only device.</summary>
    internal static GpuDevice Choose(IReadOnlyList<GpuDevice> devices, string? selector)
    {
        if (!string.IsNullOrWhiteSpace(selector))
        {
            return Single(ScrubCommand.Select(devices, selector), "--device");
        }

        // One UUID: what the claim's CDI spec sets. "all", "none", indices or lists are not one claimed GPU.
        var visible = Environment.GetEnvironmentVariable("NVIDIA_VISIBLE_DEVICES")?.Trim();
        if (visible is { Length: > 0 } && visible.StartsWith("GPU-", StringComparison.OrdinalIgnoreCase) && !visible.Contains(',', StringComparison.Ordinal))
        {
            return devices.SingleOrDefault(d => string.Equals(d.Uuid, visible, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"NVIDIA_VISIBLE_DEVICES: no visible GPU has UUID {visible} (visible: {string.Join(", ", devices.Select(d => d.Uuid))})");
        }

        return devices.Count == 1
            ? devices[0]
            : throw new ArgumentException($"--device: {devices.Count} GPUs are visible and NVIDIA_VISIBLE_DEVICES names none; the canary checks one claimed GPU");
    }

    private static GpuDevice Single(List<GpuDevice> chosen, string source) =>
        chosen.Count == 1 ? chosen[0] : throw new ArgumentException($"{source}: names {chosen.Count} GPUs; the canary checks exactly one");

    internal static string Summary(CanaryReport r) => r.Verdict switch
    {
        CanaryVerdict.Clean => string.Create(CultureInfo.InvariantCulture,
            $"PASS {r.Device} ({r.Uuid}): {r.BytesChecked} bytes in {r.Allocations} allocation(s) read back zero ({r.Method}); marker 0x{CanaryOptions.MarkerPattern:X8} written for the next run; {r.Duration.TotalMilliseconds:F0} ms"),
        CanaryVerdict.Dirty => string.Create(CultureInfo.InvariantCulture,
            $"FAIL {r.Device} ({r.Uuid}): non-zero data in {r.DirtyAllocations} of {r.Allocations} allocation(s), covering {r.DirtyBytes} of {r.BytesChecked} bytes: memory from an earlier claim was not scrubbed{(r.FailureReason is null ? "" : $" (then: {r.FailureReason})")}"),
        _ => string.Create(CultureInfo.InvariantCulture,
            $"INCOMPLETE {r.Device} ({r.Uuid}): {r.FailureReason}; {r.BytesChecked} bytes checked, none non-zero"),
    };

    private static async Task RecordEventAsync(KubeConnectionSettings connection, EventTarget target, CanaryReport report, string summary,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        using var client = KubeApiClientFactory.Create(connection, loggerFactory: loggers);
        var recorder = new KubeEventRecorder(client, new EventRecorderOptions { Component = "securedra-canary" }, TimeProvider.System, loggers.CreateLogger<KubeEventRecorder>());
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(EventTimeout);
        var (severity, reason) = report.Verdict switch
        {
            CanaryVerdict.Clean => (EventSeverity.Normal, "VramCanaryPassed"),
            CanaryVerdict.Dirty => (EventSeverity.Warning, "VramCanaryFailed"),
            _ => (EventSeverity.Warning, "VramCanaryIncomplete"),
        };
        try
        {
            await recorder.RecordAsync(target, severity, reason, summary, bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The recorder logs its own failures; a slow API server only costs the Event, never the verdict.
        }
    }
}
