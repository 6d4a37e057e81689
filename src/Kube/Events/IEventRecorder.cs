namespace SecureDra.Kube.Events;

/// <summary>
/// Writes core/v1 Events, rate-limited per (involved object, reason) so a flapping device cannot
/// flood the API server. Failures are logged, never thrown: events are evidence, not control flow.
/// </summary>
public interface IEventRecorder
{
    Task RecordAsync(EventTarget target, EventSeverity severity, string reason, string message, CancellationToken cancellationToken);
}

/// <summary>The involved object. Namespace null for cluster-scoped objects (the Event then goes to "default").</summary>
public sealed record EventTarget(string ApiVersion, string Kind, string Name, string? Namespace, string? Uid);

public enum EventSeverity
{
    Normal,
    Warning,
}
