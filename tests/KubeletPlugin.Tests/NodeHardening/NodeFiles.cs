namespace SecureDra.KubeletPlugin.Tests.NodeHardening;

/// <summary>Real-shaped node files (as the GPU Operator and the distribution packages write them) in a temp tree.</summary>
public sealed class NodeFiles : IDisposable
{
    public NodeFiles()
    {
        Directory.CreateDirectory(Root);
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "securedra-node-" + Guid.NewGuid().ToString("N")[..12]);

    public string OperatorToolkitConfig => Path.Combine(Root, "usr/local/nvidia/toolkit/.config/nvidia-container-runtime/config.toml");

    public string PackageToolkitConfig => Path.Combine(Root, "etc/nvidia-container-runtime/config.toml");

    public string ContainerdConfig => Path.Combine(Root, "etc/containerd/config.toml");

    public string ContainerdDropIns => Path.Combine(Root, "etc/containerd/conf.d");

    public string CrioDropIns => Path.Combine(Root, "etc/crio/crio.conf.d");

    public string DevicePluginSocket => Path.Combine(Root, "var/lib/kubelet/device-plugins/nvidia-gpu.sock");

    public string DpkgStatus => Path.Combine(Root, "var/lib/dpkg/status");

    public SecureDra.KubeletPlugin.NodeHardening.NodeHardeningOptions Options(bool require = false) => new()
    {
        ToolkitConfigPaths = [OperatorToolkitConfig, PackageToolkitConfig],
        ContainerdConfigPath = ContainerdConfig,
        ContainerdDropInDirectory = ContainerdDropIns,
        CrioDropInDirectory = CrioDropIns,
        DevicePluginSocketPath = DevicePluginSocket,
        ToolkitVersionFile = DpkgStatus,
        Require = require,
    };

    public string Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    /// <summary>config.toml as nvidia-ctk-installer (GPU Operator toolkit container, v1.17) writes it: the accept key explicit and true.</summary>
    public const string OperatorToolkitToml = """
        accept-nvidia-visible-devices-as-volume-mounts = false
        accept-nvidia-visible-devices-envvar-when-unprivileged = true
        disable-require = false
        supported-driver-capabilities = "compat32,compute,display,graphics,ngx,utility,video"

        [nvidia-container-cli]
          environment = []
          ldconfig = "@/run/nvidia/driver/sbin/ldconfig.real"
          load-kmods = true
          path = "/usr/local/nvidia/toolkit/nvidia-container-cli"
          root = "/run/nvidia/driver"

        [nvidia-container-runtime]
          log-level = "info"
          mode = "auto"
          runtimes = ["docker-runc", "runc", "crun"]

          [nvidia-container-runtime.modes]

            [nvidia-container-runtime.modes.cdi]
              annotation-prefixes = ["cdi.k8s.io/"]
              default-kind = "management.nvidia.com/gpu"
              spec-dirs = ["/etc/cdi", "/var/run/cdi"]

            [nvidia-container-runtime.modes.csv]
              mount-spec-path = "/etc/nvidia-container-runtime/host-files-for-container.d"

        [nvidia-container-runtime-hook]
          path = "/usr/local/nvidia/toolkit/nvidia-container-runtime-hook"
          skip-mode-detection = true

        [nvidia-ctk]
          path = "/usr/local/nvidia/toolkit/nvidia-ctk"
        """;

    /// <summary>The distribution package's config.toml: the accept key only in a comment (so the default, true, applies).</summary>
    public const string PackageToolkitToml = """
        #accept-nvidia-visible-devices-as-volume-mounts = false
        #accept-nvidia-visible-devices-envvar-when-unprivileged = true
        disable-require = false
        supported-driver-capabilities = "compat32,compute,display,graphics,ngx,utility,video"
        #swarm-resource = "DOCKER_RESOURCE_GPU"

        [nvidia-container-cli]
        #debug = "/var/log/nvidia-container-toolkit.log"
        environment = []
        #ldcache = "/etc/ld.so.cache"
        ldconfig = "@/sbin/ldconfig.real"
        load-kmods = true
        #no-cgroups = false
        #path = "/usr/bin/nvidia-container-cli"
        #root = "/run/nvidia/driver"
        #user = "root:video"

        [nvidia-container-runtime]
        #debug = "/var/log/nvidia-container-runtime.log"
        log-level = "info"
        mode = "auto"
        runtimes = ["docker-runc", "runc", "crun"]

        [nvidia-container-runtime.modes]

        [nvidia-container-runtime.modes.cdi]
        annotation-prefixes = ["cdi.k8s.io/"]
        default-kind = "nvidia.com/gpu"
        spec-dirs = ["/etc/cdi", "/var/run/cdi"]

        [nvidia-container-runtime.modes.csv]
        mount-spec-path = "/etc/nvidia-container-runtime/host-files-for-container.d"

        [nvidia-container-runtime-hook]
        path = "nvidia-container-runtime-hook"
        skip-mode-detection = false

        [nvidia-ctk]
        path = "nvidia-ctk"
        """;

    /// <summary>What docs/hardening.md recommends: the accept key false, SecureDra's CDI dir not among the toolkit's spec-dirs.</summary>
    public const string HardenedToolkitToml = """
        accept-nvidia-visible-devices-as-volume-mounts = false
        accept-nvidia-visible-devices-envvar-when-unprivileged = false

        [nvidia-container-runtime]
          mode = "cdi"

          [nvidia-container-runtime.modes.cdi]
            spec-dirs = ["/etc/cdi", "/var/run/cdi"]
        """;

    /// <summary>containerd 1.7 (config version 2) as the GPU Operator before 25.10 left it: nvidia the default runtime.</summary>
    public const string ContainerdV2OperatorToml = """
        version = 2

        [plugins]

          [plugins."io.containerd.grpc.v1.cri"]
            enable_cdi = true
            cdi_spec_dirs = ["/etc/cdi", "/var/run/cdi"]

            [plugins."io.containerd.grpc.v1.cri".containerd]
              default_runtime_name = "nvidia"

              [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]

                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
                  privileged_without_host_devices = false
                  runtime_type = "io.containerd.runc.v2"

                  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
                    BinaryName = "/usr/local/nvidia/toolkit/nvidia-container-runtime"

                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                  runtime_type = "io.containerd.runc.v2"
        """;

    /// <summary>containerd 2.x (config version 3) main file, runc the default, CDI on.</summary>
    public const string ContainerdV3Toml = """
        version = 3
        imports = ["/etc/containerd/conf.d/*.toml"]

        [plugins."io.containerd.cri.v1.runtime"]
          enable_cdi = true
          cdi_spec_dirs = ["/etc/cdi", "/var/run/cdi"]

          [plugins."io.containerd.cri.v1.runtime".containerd]
            default_runtime_name = "runc"
        """;

    /// <summary>The GPU Operator's 99-nvidia.toml drop-in for containerd 2.x: a RuntimeClass handler, not the default.</summary>
    public const string ContainerdNvidiaDropIn = """
        version = 3

        [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.nvidia]
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.nvidia.options]
            BinaryName = "/usr/local/nvidia/toolkit/nvidia-container-runtime"
        """;

    public const string CrioNvidiaDropIn = """
        [crio]

          [crio.runtime]
            default_runtime = "nvidia"

            [crio.runtime.runtimes]

              [crio.runtime.runtimes.nvidia]
                runtime_path = "/usr/local/nvidia/toolkit/nvidia-container-runtime"
                runtime_type = "oci"
        """;

    public static string DpkgStatusWith(string toolkitVersion, string status = "install ok installed") => $"""
        Package: libc6
        Status: install ok installed
        Priority: optional
        Architecture: amd64
        Version: 2.36-9+deb12u9
        Description: GNU C Library: Shared libraries
         Contains the standard libraries that are used by nearly all programs on
         the system. Version: 9.9.9 in a description must not count.

        Package: nvidia-container-toolkit
        Status: {status}
        Priority: optional
        Architecture: amd64
        Version: {toolkitVersion}
        Depends: nvidia-container-toolkit-base (= {toolkitVersion}), libnvidia-container-tools (>= 1.17.0-1)
        Description: NVIDIA Container toolkit

        Package: zlib1g
        Status: install ok installed
        Version: 1:1.2.13.dfsg-1

        """;
}
