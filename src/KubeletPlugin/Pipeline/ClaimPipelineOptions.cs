namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>
/// Tunables of the node pipeline. Driver name, node name, CDI root and plugin data dir come from
/// <see cref="Hosting.KubeletPluginOptions"/>; these are the pipeline's own.
/// </summary>
public sealed record ClaimPipelineOptions
{
    public WithdrawalMode WithdrawalMode { get; init; } = WithdrawalMode.RemoveFromSlice;

    /// <summary><c>--mig-mode</c>: Off keeps GPUs in MIG mode withdrawn; Static publishes existing instances; Dynamic publishes placements (docs/mig.md).</summary>
    public Devices.Mig.MigMode MigMode { get; init; } = Devices.Mig.MigMode.Off;

    /// <summary>The driver's list of MIG capability minors, read at each MIG Prepare (tests point it at a file of their own).</summary>
    public string MigMinorsPath { get; init; } = Devices.Mig.MigCapabilityMinorsParser.DefaultPath;

    /// <summary>Kubernetes minor version (e.g. 35) when known; null = read <c>/version</c> from the API server.</summary>
    public int? KubernetesMinorVersion { get; init; }

    /// <summary>Full relist of the node's slices even without an inventory change (re-creates slices the kubelet wiped).</summary>
    public TimeSpan SliceResyncInterval { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan PublishBackoffInitial { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan PublishBackoffMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The whole of one Unprepare call (scrubs + publishing a withdrawal); well inside the kubelet's 45 s.</summary>
    public TimeSpan UnprepareBudget { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan ScrubRetryInitial { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ScrubRetryMax { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the scrub retry loop re-reads every GPU's MIG mode (a whole-GPU scrub also reads it just before it runs).</summary>
    public TimeSpan MigModeCheckInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often Prepared claims are checked against the API server; one gone from it is reported, never released.</summary>
    public TimeSpan StaleClaimCheckInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The boot ID file; a different ID than the checkpoint's means the node rebooted.</summary>
    public string BootIdPath { get; init; } = "/proc/sys/kernel/random/boot_id";

    /// <summary>sysfs root used to find a GPU's PCIe root complex.</summary>
    public string SysfsRoot { get; init; } = "/sys";

    public string CheckpointFileName { get; init; } = "checkpoint.json";

    /// <summary>A checkpoint larger than this is refused as corrupt (bounded read).</summary>
    public int CheckpointMaxBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Control device nodes every GPU container needs besides its own /dev/nvidiaN. The simulated
    /// backend's demo may set fake paths; a real node keeps the defaults.
    /// </summary>
    public IReadOnlyList<string> CdiControlDeviceNodes { get; init; } = ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"];

    /// <summary>
    /// The crash point (see <see cref="CrashPoints"/>) at which the process kills itself; null in production. Only the
    /// test build of securedra sets it, from SECUREDRA_CRASH_AT (docs/shipped-binary.md).
    /// </summary>
    public string? CrashAt { get; init; }
}
