namespace SecureDra.Nvml.Backends.Confidential;

/// <summary>
/// <c>nvmlSystemGetConfComputeState</c> (environment, ccFeature, devToolsMode), <c>nvmlSystemGetConfComputeSettings</c>
/// (multiGpuMode; null where the driver predates it) and <c>nvmlSystemGetConfComputeGpusReadyState</c>
/// (<see cref="GpusReady"/>; null where it could not be read). <see cref="Supported"/> is false where the driver answers
/// NOT_SUPPORTED or lacks the functions: then nothing else is meaningful.
/// </summary>
public sealed record ConfidentialComputeState(
    bool Supported,
    CcEnvironment Environment,
    bool CcEnabled,
    bool DevToolsMode,
    CcMultiGpuMode? MultiGpuMode,
    bool? GpusReady)
{
    public static ConfidentialComputeState Unsupported { get; } = new(false, CcEnvironment.Unavailable, false, false, null, null);

    /// <summary>CC is on and the GPUs do not (or cannot be shown to) accept work: devices are withdrawn with reason CcNotReady.</summary>
    public bool NotReady => Supported && CcEnabled && GpusReady != true;
}
