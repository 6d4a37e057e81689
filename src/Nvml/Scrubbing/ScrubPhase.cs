namespace SecureDra.Nvml.Scrubbing;

/// <summary>The phases a scrub reports timings for.</summary>
public enum ScrubPhase
{
    Setup,
    Allocate,
    Zero,
    Verify,
    Free,
}
