using System.Globalization;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>Times the phases of one scrub with a <see cref="TimeProvider"/> and enforces its deadline between steps.</summary>
internal sealed class PhaseClock(TimeProvider timeProvider, long started, TimeSpan deadline, CancellationToken cancellationToken)
{
    private long _phaseStarted = timeProvider.GetTimestamp();

    public ScrubPhase Current { get; private set; } = ScrubPhase.Setup;
    public TimeSpan Setup { get; private set; }
    public TimeSpan Allocate { get; private set; }
    public TimeSpan Zero { get; private set; }
    public TimeSpan Verify { get; private set; }
    public TimeSpan Free { get; private set; }

    public TimeSpan Elapsed => timeProvider.GetElapsedTime(started);

    /// <summary>Throws when the caller cancelled or the deadline passed, naming the phase.</summary>
    public void Check(ScrubPhase phase)
    {
        Current = phase;
        cancellationToken.ThrowIfCancellationRequested();
        var elapsed = Elapsed;
        if (elapsed > deadline)
        {
            throw new DeadlineExceededException(string.Create(CultureInfo.InvariantCulture,
                $"deadline of {deadline.TotalSeconds:F1} s exceeded during the {phase.ToString().ToLowerInvariant()} phase ({elapsed.TotalSeconds:F2} s)"));
        }
    }

    public void End(ScrubPhase phase)
    {
        var duration = timeProvider.GetElapsedTime(_phaseStarted);
        _phaseStarted = timeProvider.GetTimestamp();
        switch (phase)
        {
            case ScrubPhase.Setup: Setup = duration; break;
            case ScrubPhase.Allocate: Allocate = duration; break;
            case ScrubPhase.Zero: Zero = duration; break;
            case ScrubPhase.Verify: Verify = duration; break;
            default: Free = duration; break;
        }

        Check(phase + 1 <= ScrubPhase.Free ? phase + 1 : phase);
    }

    public void EndFree() => Free = timeProvider.GetElapsedTime(_phaseStarted);
}
