using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Observability.Changes;

namespace SecureDra.KubeletPlugin.Memory;

/// <summary>
/// When the kubelet's unary gRPC calls (NodePrepareResources, NodeUnprepareResources, GetInfo) last ran: how many are
/// in flight, how many have completed, and when the last one ended. <see cref="IdleMemoryTrim"/> reads it to trim
/// only once the plugin has been idle, never while a call runs. Fed by <see cref="CallActivityInterceptor"/>.
/// </summary>
public sealed class CallActivity(TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly ChangeSignal _ended = new();
    private int _inFlight;
    private long _completed;
    private long _lastEnded;

    public void Begin()
    {
        lock (_lock)
        {
            _inFlight++;
        }
    }

    public void End()
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            _inFlight--;
            _completed++;
            _lastEnded = now;
        }

        _ended.Signal();
    }

    /// <summary>
    /// Completes when the next call ends. Take it before <see cref="Snapshot"/>: a call that ends after the snapshot
    /// then completes the task already held, so the waiter never misses it.
    /// </summary>
    public Task NextEnd => _ended.Next;

    public CallActivitySnapshot Snapshot()
    {
        lock (_lock)
        {
            return new CallActivitySnapshot(_inFlight, _completed, _lastEnded);
        }
    }
}

/// <summary>
/// One look at <see cref="CallActivity"/>: calls in flight, calls completed since start, and the
/// <see cref="TimeProvider.GetTimestamp"/> at which the last one ended (0 before the first).
/// </summary>
public readonly record struct CallActivitySnapshot(int InFlight, long Completed, long LastEndedTimestamp);
