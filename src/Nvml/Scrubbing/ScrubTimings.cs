namespace SecureDra.Nvml.Scrubbing;

/// <summary>How long each phase of one scrub took; <see cref="Total"/> runs from the request, waiting for the process list included.</summary>
public sealed record ScrubTimings(TimeSpan Setup, TimeSpan Allocate, TimeSpan Zero, TimeSpan Verify, TimeSpan Free, TimeSpan Total)
{
    /// <summary>A scrub that ended before its first phase: only the time spent getting there.</summary>
    public static ScrubTimings Before(TimeSpan elapsed) => new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, elapsed);
}
