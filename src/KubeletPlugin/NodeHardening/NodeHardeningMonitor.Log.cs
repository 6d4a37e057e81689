using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Events;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.NodeHardening;

public sealed partial class NodeHardeningMonitor
{
    [LoggerMessage(EventId = EventIds.NodeHardeningMonitor.Open, EventName = "NodeHardeningOpenPath", Level = LogLevel.Warning,
        Message = "Open path to a GPU around DRA: {FindingId} [{PathId}] in {Source}: {Detail}; fix: {Fix}")]
    private static partial void LogOpen(ILogger logger, string findingId, string pathId, string source, string detail, string fix);

    [LoggerMessage(EventId = EventIds.NodeHardeningMonitor.Advisory, EventName = "NodeHardeningAdvisory", Level = LogLevel.Information,
        Message = "Node hardening advisory: {FindingId} [{PathId}] in {Source}: {Detail}; fix: {Fix}")]
    private static partial void LogAdvisory(ILogger logger, string findingId, string pathId, string source, string detail, string fix);

    [LoggerMessage(EventId = EventIds.NodeHardeningMonitor.Closed, EventName = "NodeHardeningPathClosed", Level = LogLevel.Information,
        Message = "Node hardening finding closed: {FindingId} [{PathId}] in {Source}")]
    private static partial void LogClosed(ILogger logger, string findingId, string pathId, string source);

    [LoggerMessage(EventId = EventIds.NodeHardeningMonitor.Withheld, EventName = "DevicesWithheld", Level = LogLevel.Warning,
        Message = "Withholding this node's GPUs from its ResourceSlices (--require-node-hardening): open paths {FindingIds}")]
    private static partial void LogWithheld(ILogger logger, string findingIds);

    [LoggerMessage(EventId = EventIds.NodeHardeningMonitor.Published, EventName = "DevicesPublished", Level = LogLevel.Information,
        Message = "Node hardening checks pass: publishing this node's GPUs again")]
    private static partial void LogPublished(ILogger logger);
}
