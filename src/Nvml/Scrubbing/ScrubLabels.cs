namespace SecureDra.Nvml.Scrubbing;

/// <summary>The metric label values of <see cref="ScrubTrigger"/> and <see cref="ScrubVerdict"/> (snake case, fixed).</summary>
public static class ScrubLabels
{
    public static string Of(ScrubTrigger trigger) => trigger switch
    {
        ScrubTrigger.Release => "release",
        ScrubTrigger.Retry => "retry",
        ScrubTrigger.Startup => "startup",
        ScrubTrigger.Health => "health",
        ScrubTrigger.Cli => "cli",
        _ => throw new ArgumentOutOfRangeException(nameof(trigger), trigger, "not a scrub trigger"),
    };

    public static string Of(ScrubVerdict verdict) => verdict switch
    {
        ScrubVerdict.Verified => "verified",
        ScrubVerdict.NotVerified => "not_verified",
        ScrubVerdict.Refused => "refused",
        ScrubVerdict.Timeout => "timeout",
        ScrubVerdict.Error => "error",
        ScrubVerdict.WrongDevice => "wrong_device",
        ScrubVerdict.Rejected => "rejected",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, "not a scrub verdict"),
    };
}
