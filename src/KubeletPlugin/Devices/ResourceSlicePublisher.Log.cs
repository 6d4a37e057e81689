using System.Globalization;
using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Devices;

public sealed partial class ResourceSlicePublisher
{
    [LoggerMessage(EventId = EventIds.ResourceSlicePublisher.Published, Level = LogLevel.Information, Message = "Published ResourceSlices for pool {Pool}: generation {Generation}, {SliceCount} slice(s), {DeviceCount} device(s), {Writes} write(s)")]
    private static partial void LogPublished(ILogger logger, string pool, long generation, int sliceCount, int deviceCount, int writes);

    [LoggerMessage(EventId = EventIds.ResourceSlicePublisher.ReconcileFailed, Level = LogLevel.Warning, Message = "ResourceSlice reconciliation failed (attempt {Attempt}); retrying in {DelayMs} ms")]
    private static partial void LogReconcileFailed(ILogger logger, Exception exception, int attempt, double delayMs);

    [LoggerMessage(EventId = EventIds.ResourceSlicePublisher.NoOwner, Level = LogLevel.Warning, Message = "Node {Node} not readable; publishing slices without an owner reference and retrying later")]
    private static partial void LogNoOwner(ILogger logger, string node);

    [LoggerMessage(EventId = EventIds.ResourceSlicePublisher.TaintsRejected, Level = LogLevel.Warning, Message = "Device taints are not usable ({Reason}); withdrawn devices are removed from the slice instead")]
    private static partial void LogTaintsRejected(ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.ResourceSlicePublisher.CountersRejected, Level = LogLevel.Warning, Message = "Partitionable devices are not usable ({Reason}); partitioned GPUs fall back to static MIG devices")]
    private static partial void LogCountersRejected(ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.ResourceSlicePublisher.NotPublishing, Level = LogLevel.Error, Message = "Not publishing ResourceSlices: the pipeline did not start: {Reason}")]
    private static partial void LogNotPublishing(ILogger logger, string reason);
}
