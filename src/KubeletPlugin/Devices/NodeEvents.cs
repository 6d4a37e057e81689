using Microsoft.Extensions.Logging;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.KubeletPlugin.Pipeline;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Records an Event on this node's Node object: the one writer of Node Events in the plugin. It has a short deadline
/// of its own so that evidence never eats a caller's budget; a failure is logged and otherwise ignored.
/// </summary>
public sealed partial class NodeEvents(IEventRecorder events, PipelineContext context, NodeIdentity node, TimeProvider time, ILogger<NodeEvents> logger)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    /// <param name="cancellationToken">The caller's stop; the event's own deadline applies either way.</param>
    public async Task RecordAsync(EventSeverity severity, string reason, string message, CancellationToken cancellationToken = default)
    {
        try
        {
            using var deadline = new CancellationTokenSource(Deadline, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
            await events.RecordAsync(
                new EventTarget("v1", "Node", context.Plugin.NodeName, null, await NodeUidAsync(linked.Token).ConfigureAwait(false)),
                severity,
                reason,
                message.Length > 1024 ? message[..1024] : message,
                linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogEventFailed(logger, reason, ex.Message);
        }
    }

    // The UID only links the Event to the Node object; an Event without it is still evidence, so a Node that cannot be
    // read yet (or has no UID) does not stop the Event.
    private async Task<string?> NodeUidAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await node.ResolveUidAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException)
        {
            return null;
        }
    }
}
