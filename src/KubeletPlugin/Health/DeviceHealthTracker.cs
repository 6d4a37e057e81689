using System.Threading.Channels;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Health;

/// <summary>
/// Per-device health, the one place the health stream and withdrawal read it from. Subscribers
/// get a signal on every change; each subscription is a bounded channel that keeps only the
/// latest signal, so a slow kubelet stream can never make the tracker buffer without bound.
/// </summary>
public sealed class DeviceHealthTracker(TimeProvider timeProvider, MetricsRegistry metrics)
{
    /// <summary>The gauge of open health-stream subscriptions: a stream the kubelet closed must give its subscription back.</summary>
    public const string SubscriptionsMetric = "securedra_health_stream_subscriptions";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _devices = new(StringComparer.Ordinal);
    private readonly List<Channel<bool>> _subscribers = [];
    private readonly Gauge _subscriptions = metrics.Gauge(SubscriptionsMetric, "Open subscriptions to device health changes (NodeWatchResources streams, the withdrawal service).");

    /// <summary>Registers the node's devices as healthy; devices already known keep their state.</summary>
    public void Initialize(IEnumerable<string> deviceNames)
    {
        ArgumentNullException.ThrowIfNull(deviceNames);
        lock (_lock)
        {
            foreach (var name in deviceNames)
            {
                _devices.TryAdd(name, new Entry(DeviceHealthStatus.Healthy, "", null, timeProvider.GetUtcNow()));
            }
        }

        Notify();
    }

    /// <summary>Effective health: unhealthy when the GPU itself is, or when its memory is not verified clean.</summary>
    public IReadOnlyList<DeviceHealth> Snapshot()
    {
        lock (_lock)
        {
            return [.. _devices.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => Effective(d.Key, d.Value))];
        }
    }

    public DeviceHealth? Get(string deviceName)
    {
        lock (_lock)
        {
            return _devices.TryGetValue(deviceName, out var e) ? Effective(deviceName, e) : null;
        }
    }

    /// <summary>The GPU's own health (Xid, ECC, lost), without scrub state.</summary>
    public DeviceHealthStatus GpuStatus(string deviceName)
    {
        lock (_lock)
        {
            return _devices.TryGetValue(deviceName, out var e) ? e.Status : DeviceHealthStatus.Unknown;
        }
    }

    /// <summary>The reason for the GPU's own health status, without scrub state ("" when healthy).</summary>
    public string GpuMessage(string deviceName)
    {
        lock (_lock)
        {
            return _devices.TryGetValue(deviceName, out var e) ? e.Message : "";
        }
    }

    /// <summary>Sets a device's own health (Xid, ECC, GPU lost, recovery); returns true when it changed.</summary>
    public bool Report(string deviceName, DeviceHealthStatus status, string message)
    {
        lock (_lock)
        {
            var current = _devices.GetValueOrDefault(deviceName);
            if (current is not null && current.Status == status && current.Message == message)
            {
                return false;
            }

            _devices[deviceName] = new Entry(status, message, current?.ScrubProblem, timeProvider.GetUtcNow());
        }

        Notify();
        return true;
    }

    /// <summary>
    /// Mirrors the scrubber's outcome: a non-null problem (scrub pending or failed) makes the device
    /// unhealthy in the stream, so tenants and operators see why it left scheduling.
    /// </summary>
    public bool ReportScrubProblem(string deviceName, string? problem)
    {
        lock (_lock)
        {
            var current = _devices.GetValueOrDefault(deviceName) ?? new Entry(DeviceHealthStatus.Healthy, "", null, timeProvider.GetUtcNow());
            if (current.ScrubProblem == problem && _devices.ContainsKey(deviceName))
            {
                return false;
            }

            _devices[deviceName] = current with { ScrubProblem = problem, Changed = timeProvider.GetUtcNow() };
        }

        Notify();
        return true;
    }

    private static DeviceHealth Effective(string name, Entry e)
    {
        if (e.ScrubProblem is null)
        {
            return new DeviceHealth(name, e.Status, e.Message, e.Changed);
        }

        var message = e.Status == DeviceHealthStatus.Unhealthy ? $"{e.Message}; {e.ScrubProblem}" : e.ScrubProblem;
        return new DeviceHealth(name, DeviceHealthStatus.Unhealthy, message, e.Changed);
    }

    private sealed record Entry(DeviceHealthStatus Status, string Message, string? ScrubProblem, DateTimeOffset Changed);

    /// <summary>A change signal reader; dispose the subscription to stop receiving.</summary>
    public HealthSubscription Subscribe()
    {
        var channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        lock (_lock)
        {
            _subscribers.Add(channel);
            _subscriptions.Set(_subscribers.Count);
        }

        return new HealthSubscription(channel.Reader, () =>
        {
            lock (_lock)
            {
                _subscribers.Remove(channel);
                _subscriptions.Set(_subscribers.Count);
            }

            channel.Writer.TryComplete();
        });
    }

    private void Notify()
    {
        Channel<bool>[] subscribers;
        lock (_lock)
        {
            subscribers = [.. _subscribers];
        }

        foreach (var subscriber in subscribers)
        {
            subscriber.Writer.TryWrite(true);
        }
    }
}

/// <summary>Change signals for one stream.</summary>
public sealed class HealthSubscription(ChannelReader<bool> reader, Action unsubscribe) : IDisposable
{
    private int _disposed;

    public ChannelReader<bool> Changes { get; } = reader;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            unsubscribe();
        }
    }
}
