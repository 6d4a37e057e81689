using SecureDra.Nvml.Backends.Confidential;
using SecureDra.Nvml.Native;
using SecureDra.Nvml.Native.Nvml;

namespace SecureDra.Nvml.Backends.Nvidia;

/// <summary>
/// Confidential-computing state from NVML: nvmlSystemGetConfComputeState (NOT_SUPPORTED → <see cref="ConfidentialComputeState.Unsupported"/>),
/// nvmlSystemGetConfComputeSettings for multiGpuMode (absent from older drivers → null) and
/// nvmlSystemGetConfComputeGpusReadyState (any error → null, which reads as not ready while CC is on: fail closed).
/// </summary>
public sealed class NvidiaConfidentialComputeBackend : IConfidentialComputeBackend, IDisposable
{
    private readonly Lock _gate = new();
    private NvmlLibrary? _nvml;

    public Task<ConfidentialComputeState> GetConfidentialComputeStateAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _nvml ??= NvidiaNvmlOpener.Open();
        }

        NvmlReturn r;
        NvmlConfComputeSystemState state;
        try
        {
            r = NvmlConfCompute.GetStateRaw(out state);
        }
        catch (NativeLibraryUnavailableException)
        {
            return Task.FromResult(ConfidentialComputeState.Unsupported);
        }

        if (r == NvmlReturn.NotSupported)
        {
            return Task.FromResult(ConfidentialComputeState.Unsupported);
        }

        NvmlLibrary.Check(r, "nvmlSystemGetConfComputeState");
        return Task.FromResult(new ConfidentialComputeState(
            Supported: true,
            Environment: state.Environment <= 2 ? (CcEnvironment)state.Environment : CcEnvironment.Unavailable,
            CcEnabled: state.CcFeature == 1,
            DevToolsMode: state.DevToolsMode == 1,
            MultiGpuMode: MultiGpuMode(),
            GpusReady: GpusReady()));
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _nvml?.Dispose();
            _nvml = null;
        }
    }

    private static CcMultiGpuMode? MultiGpuMode()
    {
        try
        {
            return NvmlConfCompute.GetSettingsRaw(out var settings) == NvmlReturn.Success && settings.MultiGpuMode <= 2
                ? (CcMultiGpuMode)settings.MultiGpuMode
                : null;
        }
        catch (NativeLibraryUnavailableException)
        {
            return null;
        }
    }

    private static bool? GpusReady()
    {
        try
        {
            return NvmlConfCompute.GetGpusReadyStateRaw(out var accepting) == NvmlReturn.Success ? accepting == 1 : null;
        }
        catch (NativeLibraryUnavailableException)
        {
            return null;
        }
    }
}
