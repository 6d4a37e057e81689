namespace SecureDra.Nvml.Backends.Confidential;

/// <summary>
/// The node's confidential-computing state (Hopper CC mode) as the driver reports it: system-wide, not per GPU.
/// The plugin publishes it as attributes and metrics, refuses MIG while CC is on, and withdraws GPUs with reason
/// CcNotReady while the GPUs do not accept work. The scrub runs either way.
/// </summary>
public interface IConfidentialComputeBackend
{
    /// <summary>The state now; <see cref="ConfidentialComputeState.Unsupported"/> where the driver has no CC (no error: most GPUs).</summary>
    Task<ConfidentialComputeState> GetConfidentialComputeStateAsync(CancellationToken cancellationToken);
}
