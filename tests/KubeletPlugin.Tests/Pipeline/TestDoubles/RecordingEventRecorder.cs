using System.Collections.Concurrent;
using SecureDra.Kube.Events;

namespace SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

public sealed class RecordingEventRecorder : IEventRecorder
{
    public ConcurrentQueue<(EventTarget Target, EventSeverity Severity, string Reason, string Message)> Events { get; } = new();

    public Task RecordAsync(EventTarget target, EventSeverity severity, string reason, string message, CancellationToken cancellationToken)
    {
        Events.Enqueue((target, severity, reason, message));
        return Task.CompletedTask;
    }
}
