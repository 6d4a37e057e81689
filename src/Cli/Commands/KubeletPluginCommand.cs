using System.CommandLine;
using SecureDra.Api;
using SecureDra.Cli.Hosting;
using SecureDra.KubeletPlugin.Health;
using SecureDra.KubeletPlugin.Hosting;

namespace SecureDra.Cli.Commands;

internal static class KubeletPluginCommand
{
    /// <summary>Shared with the proxy, which runs the same scrub retry loop and API client.</summary>
    internal const string ScrubRetryInitialHelp = "First wait before a failed scrub is retried (the GPU stays withdrawn meanwhile); doubles on each failure. 1ms to 1h; default 5s";

    /// <summary>Shared with the proxy.</summary>
    internal const string KubeRequestTimeoutHelp = "Time one Kubernetes API request may take before it fails as a timeout, handled like any other API error (a slice publish backs off and retries). 1ms to 5m; default 30s";

    public static Command Create()
    {
        var driverName = EnvOption.Flag("--driver-name", "DRA driver name (DNS subdomain, at most 63 characters)", DriverConstants.DefaultDriverName, "DRIVER_NAME");
        var nodeName = EnvOption.Upstream("--node-name", "NODE_NAME", "Name of this node (required)");
        var kubeconfig = EnvOption.Upstream("--kubeconfig", "KUBECONFIG", "Kubeconfig file; in-cluster config when absent");
        var registrarDir = EnvOption.Upstream("--kubelet-registrar-directory-path", "KUBELET_REGISTRAR_DIRECTORY_PATH", "Kubelet plugin registration directory", "/var/lib/kubelet/plugins_registry");
        var pluginsDir = EnvOption.Upstream("--kubelet-plugins-directory-path", "KUBELET_PLUGINS_DIRECTORY_PATH", "Kubelet plugins directory; the DRA socket goes in <dir>/<driver>/", "/var/lib/kubelet/plugins");
        var cdiRoot = EnvOption.Upstream("--cdi-root", "CDI_ROOT", "Directory for CDI specs", "/var/run/cdi");
        var podUid = EnvOption.Upstream("--pod-uid", "POD_UID", "UID of this pod; enables rolling-update socket names");
        var httpEndpoint = EnvOption.OptionalFlag("--http-endpoint", "IP:port serving /healthz, /readyz and /metrics, e.g. 127.0.0.1:8080", "HTTP_ENDPOINT");
        var httpMaxConnections = EnvOption.Flag("--http-max-connections", "Connections the --http-endpoint listener holds at once; at the cap the longest-idle one is closed for a new one. With a reserve of 256 descriptors it must fit under RLIMIT_NOFILE", "64", "HTTP_MAX_CONNECTIONS");
        var httpIdleTimeout = EnvOption.Flag("--http-idle-timeout", "A --http-endpoint connection with no request for this long is closed (the kubelet's Unix-socket connections are never timed out)", "30s", "HTTP_IDLE_TIMEOUT");
        var trimMemory = EnvOption.Flag("--trim-memory-after-start", "Once first ready, give back start-up memory: a compacting GC and the executable's start-up pages (madvise MADV_PAGEOUT; what a later call needs faults back in). true or false", "true");
        var trimWhenIdle = EnvOption.Flag("--trim-memory-when-idle", "After calls, once this long has passed without one, run one compacting GC that gives the GC's free memory back to the OS (never during a call). 1s to 1h, or 0 for never", "10s");
        var logging = new LogSetup();
        var withdrawalMode = EnvOption.Flag("--withdrawal-mode", "How a dirty or unhealthy GPU leaves scheduling: remove-from-slice, taint-noschedule (clusters with device taints), or taint-noexecute (also evicts running pods; never implied)", "remove-from-slice", "WITHDRAWAL_MODE");
        var migMode = EnvOption.Flag("--mig-mode", "GPUs in MIG mode: off (withdrawn, reason MigModeEnabled), static (publish the instances that exist; never create or destroy one) or dynamic (publish every placement as a partitionable device where the API server keeps counters)", "off");
        var migManagerSocket = EnvOption.OptionalFlag("--mig-manager-socket", "Unix socket of the pod's MIG manager (securedra mig-manager): MIG calls and per-instance scrubs go there instead of this process, which then needs no MIG capability; MIG devices stay withdrawn while it does not answer. Needs --mig-mode static or dynamic");
        var fatalXids = EnvOption.Flag("--fatal-xids", "Comma-separated Xid errors that make a GPU unhealthy", string.Join(',', FatalXidCatalog.DefaultFatalXids), "FATAL_XIDS");
        var maxConfigBytes = EnvOption.Flag("--max-config-bytes", "Largest opaque config accepted, in bytes (at most the API server's 10240)", DriverConstants.OpaqueParametersMaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), "MAX_CONFIG_BYTES");
        var healthResend = EnvOption.Flag("--health-resend-interval", "How often the device health stream resends the full list (the kubelet marks a device Unknown after 30 s without one)", "10s", "HEALTH_RESEND_INTERVAL");
        var healthRecovery = EnvOption.Flag("--health-recovery-initial", "First wait before an unhealthy, unassigned GPU gets a recovery scrub + presence check; doubles up to 10m", "30s", "HEALTH_RECOVERY_INITIAL");
        var scrubRetryInitial = EnvOption.OptionalFlag("--scrub-retry-initial", ScrubRetryInitialHelp, "SCRUB_RETRY_INITIAL");
        var unprepareBudget = EnvOption.OptionalFlag("--unprepare-budget", "Time one Unprepare call may take: release scrubs get three quarters, publishing the withdrawal of a GPU that did not scrub clean the rest; such a GPU stays withdrawn until a retried scrub verifies it. 1ms to 40s (the kubelet gives up after 45s); default 30s", "UNPREPARE_BUDGET");
        var kubeRequestTimeout = EnvOption.OptionalFlag("--kube-request-timeout", KubeRequestTimeoutHelp, "KUBE_REQUEST_TIMEOUT");
        var gpu = new GpuBackendFlags();
        var hardening = new NodeHardeningFlags();

        var command = new Command("kubelet-plugin", "Run the node daemon: kubelet registration, DRA gRPC, ResourceSlices, prepare/unprepare with VRAM scrub.")
        {
            driverName, nodeName, kubeconfig, registrarDir, pluginsDir, cdiRoot, podUid, httpEndpoint, httpMaxConnections, httpIdleTimeout,
            withdrawalMode, migMode, migManagerSocket, fatalXids, maxConfigBytes, scrubRetryInitial, unprepareBudget, kubeRequestTimeout,
            trimMemory, trimWhenIdle,
        };
        command.Options.Add(healthResend);
        command.Options.Add(healthRecovery);
        logging.AddTo(command);
        gpu.AddTo(command);
        hardening.AddTo(command);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (OperatingSystem.IsWindows())
            {
                return CliInvocation.UsageError(command, "runs on Linux nodes only");
            }

            Network.ListenerLimits httpLimits;
            LogSettings logSettings;
            bool trimMemoryAfterStart;
            TimeSpan trimMemoryWhenIdle;
            try
            {
                logSettings = logging.Bind(parseResult);
                trimMemoryAfterStart = FlagParsing.Bool("--trim-memory-after-start", parseResult.GetValue(trimMemory)!);
                trimMemoryWhenIdle = FlagParsing.Duration("--trim-memory-when-idle", parseResult.GetValue(trimWhenIdle)!, TimeSpan.FromSeconds(1), KubeletPluginOptions.MaxTrimMemoryWhenIdle);
                httpLimits = new Network.ListenerLimits
                {
                    MaxConnections = FlagParsing.Count("--http-max-connections", parseResult.GetValue(httpMaxConnections)!, 1, 1_000_000),
                    IdleTimeout = FlagParsing.Duration("--http-idle-timeout", parseResult.GetValue(httpIdleTimeout)!, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)),
                };
            }
            catch (FormatException ex)
            {
                return CliInvocation.UsageError(command, ex.Message);
            }

            var options = new KubeletPluginOptions
            {
                HttpLimits = httpLimits,
                DriverName = parseResult.GetValue(driverName)!,
                NodeName = parseResult.GetValue(nodeName) ?? "",
                Kubeconfig = parseResult.GetValue(kubeconfig),
                KubeletRegistrarDirectoryPath = parseResult.GetValue(registrarDir)!,
                KubeletPluginsDirectoryPath = parseResult.GetValue(pluginsDir)!,
                CdiRoot = parseResult.GetValue(cdiRoot)!,
                PodUid = parseResult.GetValue(podUid),
                HttpEndpoint = parseResult.GetValue(httpEndpoint),
                LogFormat = logSettings.Format,
                TrimMemoryAfterStart = trimMemoryAfterStart,
                TrimMemoryWhenIdle = trimMemoryWhenIdle,
            };
            var errors = KubeletPluginOptionsValidator.Validate(options);
            if (errors.Count > 0)
            {
                return CliInvocation.UsageError(command, errors[0]);
            }

            NodeComponents components;
            try
            {
                components = NodeComponents.Bind(
                    gpu.Bind(parseResult, Path.Combine(options.PluginDataDirectory, "simulated-vram")),
                    parseResult.GetValue(withdrawalMode)!,
                    parseResult.GetValue(fatalXids)!,
                    parseResult.GetValue(maxConfigBytes)!,
                    parseResult.GetValue(scrubRetryInitial),
                    parseResult.GetValue(unprepareBudget),
                    parseResult.GetValue(kubeRequestTimeout));
                components = components.WithHealthTimings(parseResult.GetValue(healthResend)!, parseResult.GetValue(healthRecovery)!);
                components = components with { NodeHardening = hardening.Bind(parseResult) };
                components = components.WithMigMode(parseResult.GetValue(migMode)!);
                components = components.WithMigManager(parseResult.GetValue(migManagerSocket));
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                return CliInvocation.UsageError(command, ex.Message);
            }

            return await NodeDaemonRun.BuildAndRunAsync(command, parseResult, options, logSettings, services => components.Register(services, options), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }
}
