namespace SecureDra.KubeletPlugin.Devices;

/// <summary>Why a device is kept out of scheduling. A device may carry several at once; it returns when none is left.</summary>
public enum WithdrawalReason
{
    /// <summary>Its memory may still hold a former tenant's data (unprepare interrupted, node rebooted with a claim on it, or no proof of a verified scrub).</summary>
    VramDirty,

    /// <summary>A scrub ran and did not verify, was refused, threw or timed out.</summary>
    ScrubFailed,

    /// <summary>The health monitor reported it unhealthy (Xid, ECC, GPU lost).</summary>
    Unhealthy,

    /// <summary>MIG mode is enabled or pending: what a scrub of the whole GPU covers is unknown, so it cannot be verified.</summary>
    MigModeEnabled,

    /// <summary>Confidential computing is on and the driver does not report the GPUs ready to accept work (nvmlSystemGetConfComputeGpusReadyState).</summary>
    CcNotReady,

    /// <summary>The MIG manager (<c>--mig-manager-socket</c>) does not answer: MIG devices can be neither checked, scrubbed nor prepared.</summary>
    MigManagerUnavailable,
}
