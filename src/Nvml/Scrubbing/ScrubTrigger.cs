namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// Why a scrub ran: the closed <c>trigger</c> label of the scrub metrics and a property of every scrub log event.
/// The caller knows it, the scrubber records it, so one scrub is one sample whoever asked for it.
/// </summary>
public enum ScrubTrigger
{
    /// <summary>A claim released the device (Unprepare).</summary>
    Release,

    /// <summary>The retry loop scrubs a device left dirty by a failed or interrupted scrub.</summary>
    Retry,

    /// <summary>The plugin starts and finds a device without durable proof of a verified scrub.</summary>
    Startup,

    /// <summary>A device came back from an unhealthy state and must be proven clean before it is offered again.</summary>
    Health,

    /// <summary>An operator asked for it (<c>securedra scrub</c>, the MIG scrub worker's own process).</summary>
    Cli,
}
