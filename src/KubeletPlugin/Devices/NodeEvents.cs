using Microsoft.Extensions.Logging;
using SecureDra.Kube.Events;
using SecureDra.KubeletPlugin.Pipeline;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Records an Event on this node's Node object, with a short deadline of its own so that evidence
/// never eats a caller's budget; a failure is logged and otherwise ignored.
/// </summary>
public sealed partial class NodeEvents(IEventRecorder events, PipelineContext context, NodeIdentity node, TimeProvider time, ILogger<NodeEvents> logger)
{
    public async Task RecordAsync(EventSeverity severity, string reason, string message)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2), time);
            await events.RecordAsync(
                new EventTarget("v1", "Node", context.Plugin.NodeName, null, node.Uid),
                severity,
                reason,
                message.Length > 1024 ? message[..1024] : message,
                cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogEventFailed(logger, reason, ex.Message);
        }
    }
}
