using SecureDra.Nvml.Backends.Confidential;

namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// Confidential-computing state of the simulated node, from <c>DIR/system.faults.json</c> (re-read on every call) where fault
/// files are on (<see cref="SimulatedGpuOptions.FaultFiles"/>: tests and the test build only); otherwise no CC.
/// </summary>
public sealed class SimulatedConfidentialComputeBackend(SimulatedGpuOptions options) : IConfidentialComputeBackend
{
    public Task<ConfidentialComputeState> GetConfidentialComputeStateAsync(CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        var cc = options.FaultFiles ? SimulatedSystemFaultFile.Read(options.VramDirectory).ConfidentialCompute : null;
        if (cc is null)
        {
            return Task.FromResult(ConfidentialComputeState.Unsupported);
        }

        return Task.FromResult(new ConfidentialComputeState(
            Supported: true,
            Environment: SimulatedSystemFaultFile.ParseEnvironment(cc.Environment) ?? CcEnvironment.Unavailable,
            CcEnabled: cc.CcFeature,
            DevToolsMode: cc.DevToolsMode,
            MultiGpuMode: cc.MultiGpuMode is null ? null : SimulatedSystemFaultFile.ParseMultiGpuMode(cc.MultiGpuMode),
            GpusReady: cc.GpusReady));
    }
}
