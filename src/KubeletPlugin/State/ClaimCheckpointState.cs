namespace SecureDra.KubeletPlugin.State;

/// <summary>Where a claim stands on this node; written before the step it names begins.</summary>
public enum ClaimCheckpointState
{
    /// <summary>Devices reserved; CDI spec may or may not exist; nothing was returned to the kubelet. Rolled back on start.</summary>
    PrepareStarted,

    /// <summary>Answer returned to the kubelet; containers may use the devices.</summary>
    Prepared,

    /// <summary>Scrubbing began; the devices may hold tenant data. On start they stay withdrawn until a scrub verifies.</summary>
    UnprepareStarted,

    /// <summary>The claim is released but <see cref="CheckpointClaim.DirtyDevices"/> failed their scrub; kept until they are clean.</summary>
    ScrubFailed,
}
