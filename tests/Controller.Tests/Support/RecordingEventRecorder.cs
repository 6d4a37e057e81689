using SecureDra.Kube.Events;

namespace SecureDra.Controller.Tests.Support;

internal sealed class RecordingEventRecorder : IEventRecorder
{
    public List<(EventTarget Target, EventSeverity Severity, string Reason, string Message)> Events { get; } = [];

    public Task RecordAsync(EventTarget target, EventSeverity severity, string reason, string message, CancellationToken cancellationToken)
    {
        lock (Events)
        {
            Events.Add((target, severity, reason, message));
        }

        return Task.CompletedTask;
    }
}
