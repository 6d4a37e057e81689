using SecureDra.Observability.Changes;

namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>
/// The highest inventory version a publisher has put in front of the scheduler, and a wait for it to reach a
/// version: what Unprepare awaits before it reports a withdrawal done (<see cref="Devices.ISlicePublication"/>).
/// It only rises; waiters wake on every rise and check again.
/// </summary>
internal sealed class VersionWatermark(long initial)
{
    private readonly Lock _lock = new();
    private readonly ChangeSignal _raised = new();
    private long _version = initial;

    public long Value
    {
        get { lock (_lock) { return _version; } }
    }

    /// <summary>Raises the mark to <paramref name="version"/> and wakes the waiters; a lower or equal version changes nothing.</summary>
    public void Raise(long version)
    {
        lock (_lock)
        {
            if (version <= _version)
            {
                return;
            }

            _version = version;
        }

        _raised.Signal();
    }

    /// <summary>Completes once the mark is at least <paramref name="version"/>.</summary>
    public Task WaitForAsync(long version, CancellationToken cancellationToken) =>
        _raised.WaitUntilAsync(() => Value >= version, cancellationToken);
}
