namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// How one scrub ended: the closed <c>outcome</c> label of the scrub metrics. Only <see cref="Verified"/> lets a device
/// be offered again; every other verdict leaves it withdrawn.
/// </summary>
public enum ScrubVerdict
{
    /// <summary>Zeroed, read back as zero by the device, with the required coverage.</summary>
    Verified,

    /// <summary>The scrub ran but did not prove the memory clean (a mismatch, too little coverage, a failed phase).</summary>
    NotVerified,

    /// <summary>Compute processes still held the device: nothing was touched.</summary>
    Refused,

    /// <summary>The scrub's deadline (its own or the caller's) ran out, or the MIG worker was killed at it.</summary>
    Timeout,

    /// <summary>The backend failed outside a scrub phase (no process list, an unexpected exception, a worker that did not start).</summary>
    Error,

    /// <summary>The MIG scrub worker saw a different device than the instance it was started for.</summary>
    WrongDevice,

    /// <summary>The MIG scrub worker's report was malformed, oversized or inconsistent.</summary>
    Rejected,
}
