using System.CommandLine;
using SecureDra.Api;
using SecureDra.Cli.Hosting;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Proxy;

namespace SecureDra.Cli.Commands;

/// <summary>
/// <c>securedra proxy</c>: the driver proxy in front of a vendor's DRA kubelet plugin (docs/proxy.md). It registers
/// with the kubelet under the vendor's driver name once the vendor plugin, moved to a private registry directory, is
/// connected; it writes no CDI specs and publishes no ResourceSlices, and keeps its checkpoint in its own directory.
/// </summary>
internal static class ProxyCommand
{
    public static Command Create()
    {
        var nodeName = EnvOption.Upstream("--node-name", "NODE_NAME", "Name of this node (required)");
        var kubeconfig = EnvOption.Upstream("--kubeconfig", "KUBECONFIG", "Kubeconfig file; in-cluster config when absent");
        var registrarDir = EnvOption.Upstream("--kubelet-registrar-directory-path", "KUBELET_REGISTRAR_DIRECTORY_PATH", "Kubelet plugin registration directory, where only the proxy may register the vendor's driver name", "/var/lib/kubelet/plugins_registry");
        var pluginsDir = EnvOption.Upstream("--kubelet-plugins-directory-path", "KUBELET_PLUGINS_DIRECTORY_PATH", "Kubelet plugins directory; the proxy's state goes in <dir>/securedra-proxy unless --state-directory-path is set", "/var/lib/kubelet/plugins");
        var stateDir = EnvOption.OptionalFlag("--state-directory-path", "The proxy's own directory: DRA socket and checkpoint (never the vendor's <plugins>/<driver>/)");
        var vendorRegistry = EnvOption.Flag("--vendor-registry-directory-path", "Private registration directory the vendor plugin was moved to (its --kubelet-registrar-directory-path); the kubelet must not watch it", "/var/lib/securedra/vendor/plugins_registry");
        var vendorPlugins = EnvOption.Flag("--vendor-plugins-directory-path", "The only directory tree a vendor's DRA endpoint may be in (its --kubelet-plugins-directory-path)", "/var/lib/securedra/vendor/plugins");
        var vendorDriver = EnvOption.Flag("--vendor-driver-name", "Driver name the vendor plugin must announce; the proxy registers with the kubelet under it", DriverConstants.DefaultDriverName);
        var vendorUnreachable = EnvOption.Flag("--vendor-unreachable-timeout", "After this long without a connectable vendor endpoint the proxy withdraws its kubelet registration", "30s");
        var vendorCallTimeout = EnvOption.Flag("--vendor-call-timeout", "Deadline of one Prepare or Unprepare forwarded to the vendor (at most 40s: the kubelet gives up after 45s)", "20s");
        var allowMps = EnvOption.Flag("--allow-mps", "Let opaque configs ask the vendor for MPS sharing (its daemon holds the GPU and can block the release scrub)", "false");
        var allowVfio = EnvOption.Flag("--allow-vfio", "Let opaque configs ask for VfioDeviceConfig (passthrough to a VM)", "false");
        var allowComputeDomain = EnvOption.Flag("--allow-compute-domain", "Let opaque configs ask for ComputeDomainChannelConfig / ComputeDomainDaemonConfig", "false");
        var deviceTaintRules = EnvOption.Flag("--device-taint-rules", "Publish a withdrawn GPU's vendor devices as NoSchedule DeviceTaintRules where resource.k8s.io serves them (else only the proxy's refusal at Prepare)", "true");
        var httpMaxConnections = EnvOption.Flag("--http-max-connections", "Connections the --http-endpoint listener holds at once", "64");
        var httpIdleTimeout = EnvOption.Flag("--http-idle-timeout", "A --http-endpoint connection with no request for this long is closed", "30s");
        var podUid = EnvOption.Upstream("--pod-uid", "POD_UID", "UID of this pod; enables rolling-update socket names");
        var httpEndpoint = EnvOption.OptionalFlag("--http-endpoint", "IP:port serving /healthz, /readyz and /metrics, e.g. 127.0.0.1:8080");
        var logging = new LogSetup();
        var scrubRetryInitial = EnvOption.OptionalFlag("--scrub-retry-initial", KubeletPluginCommand.ScrubRetryInitialHelp);
        var kubeRequestTimeout = EnvOption.OptionalFlag("--kube-request-timeout", KubeletPluginCommand.KubeRequestTimeoutHelp);
        var gpu = new GpuBackendFlags();

        var command = new Command("proxy", "Run the driver proxy: SecureDra's checks and verified VRAM scrub in front of a vendor's DRA kubelet plugin.")
        {
            nodeName, kubeconfig, registrarDir, pluginsDir, stateDir, vendorRegistry, vendorPlugins, vendorDriver, vendorUnreachable, vendorCallTimeout,
            allowMps, allowVfio, allowComputeDomain, deviceTaintRules, podUid, httpEndpoint, httpMaxConnections, httpIdleTimeout, scrubRetryInitial, kubeRequestTimeout,
        };
        gpu.AddTo(command);
        logging.AddTo(command);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (OperatingSystem.IsWindows())
            {
                return CliInvocation.UsageError(command, "runs on Linux nodes only");
            }

            LogSettings logSettings;
            try
            {
                logSettings = logging.Bind(parseResult);
            }
            catch (FormatException ex)
            {
                return CliInvocation.UsageError(command, ex.Message);
            }

            var driver = parseResult.GetValue(vendorDriver)!;
            var plugins = parseResult.GetValue(pluginsDir)!;
            var state = parseResult.GetValue(stateDir) ?? Path.Combine(plugins, "securedra-proxy");
            ProxyOptions proxy;
            SecureDra.Api.Config.Nvidia.NvidiaConfigPolicy policy;
            Network.ListenerLimits httpLimits;
            try
            {
                policy = new SecureDra.Api.Config.Nvidia.NvidiaConfigPolicy(
                    FlagParsing.Bool("--allow-mps", parseResult.GetValue(allowMps)!),
                    FlagParsing.Bool("--allow-vfio", parseResult.GetValue(allowVfio)!),
                    FlagParsing.Bool("--allow-compute-domain", parseResult.GetValue(allowComputeDomain)!));
                httpLimits = new Network.ListenerLimits
                {
                    MaxConnections = FlagParsing.Count("--http-max-connections", parseResult.GetValue(httpMaxConnections)!, 1, 1_000_000),
                    IdleTimeout = FlagParsing.Duration("--http-idle-timeout", parseResult.GetValue(httpIdleTimeout)!, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)),
                };
                proxy = new ProxyOptions
                {
                    VendorRegistryDirectory = parseResult.GetValue(vendorRegistry)!,
                    VendorPluginsDirectory = parseResult.GetValue(vendorPlugins)!,
                    VendorDriverName = driver,
                    VendorUnreachableTimeout = FlagParsing.Duration("--vendor-unreachable-timeout", parseResult.GetValue(vendorUnreachable)!, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)),
                    VendorCallTimeout = FlagParsing.Duration("--vendor-call-timeout", parseResult.GetValue(vendorCallTimeout)!, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(40)),
                    DeviceTaintRules = FlagParsing.Bool("--device-taint-rules", parseResult.GetValue(deviceTaintRules)!),
                };
            }
            catch (FormatException ex)
            {
                return CliInvocation.UsageError(command, ex.Message);
            }

            if (proxy.Validate() is { } proxyError)
            {
                return CliInvocation.UsageError(command, proxyError);
            }

            var options = new KubeletPluginOptions
            {
                HttpLimits = httpLimits,
                DriverName = driver,
                NodeName = parseResult.GetValue(nodeName) ?? "",
                Kubeconfig = parseResult.GetValue(kubeconfig),
                KubeletRegistrarDirectoryPath = parseResult.GetValue(registrarDir)!,
                KubeletPluginsDirectoryPath = plugins,
                DataDirectoryOverride = Path.GetFullPath(state),

                // The proxy writes no CDI specs: the root is a directory of its own that stays empty, never the node's
                // CDI root (start-up recovery there would touch files a vendor of the same driver name writes).
                CdiRoot = Path.Combine(Path.GetFullPath(state), "no-cdi"),
                DeferRegistration = true,
                PodUid = parseResult.GetValue(podUid),
                HttpEndpoint = parseResult.GetValue(httpEndpoint),
                LogFormat = logSettings.Format,
            };
            var errors = KubeletPluginOptionsValidator.Validate(options);
            if (errors.Count > 0)
            {
                return CliInvocation.UsageError(command, errors[0]);
            }

            if (IsUnder(options.PluginDataDirectory, Path.Combine(plugins, driver)) || IsUnder(options.PluginDataDirectory, proxy.VendorPluginsDirectory))
            {
                return CliInvocation.UsageError(command, $"--state-directory-path: {options.PluginDataDirectory} is inside the vendor's directory; use a directory of the proxy's own");
            }

            NodeComponents components;
            try
            {
                components = NodeComponents.Bind(
                    gpu.Bind(parseResult, Path.Combine(options.PluginDataDirectory, "simulated-vram")),
                    "remove-from-slice",
                    string.Join(',', SecureDra.KubeletPlugin.Health.FatalXidCatalog.DefaultFatalXids),
                    DriverConstants.OpaqueParametersMaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    parseResult.GetValue(scrubRetryInitial),
                    unprepareBudget: null,
                    parseResult.GetValue(kubeRequestTimeout));
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                return CliInvocation.UsageError(command, ex.Message);
            }

            return await NodeDaemonRun.BuildAndRunAsync(command, parseResult, options, logSettings, services => components.RegisterProxy(services, options, proxy, policy), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static bool IsUnder(string path, string root)
    {
        var full = Path.GetFullPath(path).TrimEnd('/') + "/";
        var prefix = Path.GetFullPath(root).TrimEnd('/') + "/";
        return full.StartsWith(prefix, StringComparison.Ordinal);
    }
}
