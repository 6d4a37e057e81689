using SecureDra.Observability.Metrics;

namespace SecureDra.Nvml.Backends.Confidential;

/// <summary>
/// The node's confidential-computing state as gauges with closed label sets: <c>securedra_cc_supported</c>,
/// <c>securedra_cc_enabled</c>, <c>securedra_cc_devtools_mode</c>, <c>securedra_cc_gpus_ready</c> (0 while not ready or
/// unknown), <c>securedra_cc_environment{environment="unavailable|simulation|production"}</c> and
/// <c>securedra_cc_multi_gpu_mode{mode="none|protected_pcie|nvle|unknown"}</c> (1 for the current value, 0 for the others).
/// </summary>
public sealed class ConfidentialComputeMetrics
{
    public static readonly IReadOnlyList<string> Environments = ["unavailable", "simulation", "production"];
    public static readonly IReadOnlyList<string> MultiGpuModes = ["none", "protected_pcie", "nvle", "unknown"];

    private readonly Gauge _supported;
    private readonly Gauge _enabled;
    private readonly Gauge _devTools;
    private readonly Gauge _ready;
    private readonly Gauge _environment;
    private readonly Gauge _multiGpu;

    public ConfidentialComputeMetrics(MetricsRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _supported = registry.Gauge("securedra_cc_supported", "1 when the driver reports confidential-computing state (nvmlSystemGetConfComputeState), else 0.");
        _enabled = registry.Gauge("securedra_cc_enabled", "1 when confidential computing (CC mode) is on.");
        _devTools = registry.Gauge("securedra_cc_devtools_mode", "1 when CC devtools mode is on: not for production tenants.");
        _ready = registry.Gauge("securedra_cc_gpus_ready", "1 when the GPUs accept work in CC mode (nvmlSystemGetConfComputeGpusReadyState), 0 when not or unknown.");
        _environment = registry.Gauge("securedra_cc_environment", "1 for the CC environment the driver reports.", "environment");
        _multiGpu = registry.Gauge("securedra_cc_multi_gpu_mode", "1 for the CC multi-GPU mode the driver reports (unknown: not reported).", "mode");
    }

    public void Record(ConfidentialComputeState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _supported.Set(state.Supported ? 1 : 0);
        _enabled.Set(state.CcEnabled ? 1 : 0);
        _devTools.Set(state.DevToolsMode ? 1 : 0);
        _ready.Set(state.GpusReady == true ? 1 : 0);
        var environment = state.Environment switch
        {
            CcEnvironment.Simulation => "simulation",
            CcEnvironment.Production => "production",
            _ => "unavailable",
        };
        foreach (var e in Environments)
        {
            _environment.Set(e == environment ? 1 : 0, e);
        }

        var mode = state.MultiGpuMode switch
        {
            CcMultiGpuMode.None => "none",
            CcMultiGpuMode.ProtectedPcie => "protected_pcie",
            CcMultiGpuMode.Nvle => "nvle",
            _ => "unknown",
        };
        foreach (var m in MultiGpuModes)
        {
            _multiGpu.Set(m == mode ? 1 : 0, m);
        }
    }
}
