using System.Threading.Channels;

namespace SecureDra.KubeletPlugin.Health;

/// <summary>
/// Per-device health, the one place the health stream and withdrawal read it from. Subscribers
/// get a signal on every change; each subscription is a bounded channel that keeps only the
/// latest signal, so a slow kubelet stream can never make the tracker buffer without bound.
/// </summary>
public sealed class DeviceHealthTracker(TimeProvider timeProvider)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DeviceHealth> _devices = new(StringComparer.Ordinal);
    private readonly List<Channel<bool>> _subscribers = [];

    /// <summary>Registers the node's devices as healthy; devices already known keep their state.</summary>
    public void Initialize(IEnumerable<string> deviceNames)
    {
        ArgumentNullException.ThrowIfNull(deviceNames);
        lock (_lock)
        {
            foreach (var name in deviceNames)
            {
                _devices.TryAdd(name, new DeviceHealth(name, DeviceHealthStatus.Healthy, "", timeProvider.GetUtcNow()));
            }
        }

        Notify();
    }

    public IReadOnlyList<DeviceHealth> Snapshot()
    {
        lock (_lock)
        {
            return [.. _devices.Values.OrderBy(d => d.DeviceName, StringComparer.Ordinal)];
        }
    }

    public DeviceHealth? Get(string deviceName)
    {
        lock (_lock)
        {
            return _devices.GetValueOrDefault(deviceName);
        }
    }

    /// <summary>Sets a device's health; returns true when it changed (status or message).</summary>
    public bool Report(string deviceName, DeviceHealthStatus status, string message)
    {
        lock (_lock)
        {
            if (_devices.TryGetValue(deviceName, out var current) && current.Status == status && current.Message == message)
            {
                return false;
            }

            _devices[deviceName] = new DeviceHealth(deviceName, status, message, timeProvider.GetUtcNow());
        }

        Notify();
        return true;
    }

    /// <summary>A change signal reader; dispose the subscription to stop receiving.</summary>
    public HealthSubscription Subscribe()
    {
        var channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        lock (_lock)
        {
            _subscribers.Add(channel);
        }

        return new HealthSubscription(channel.Reader, () =>
        {
            lock (_lock)
            {
                _subscribers.Remove(channel);
            }

            channel.Writer.TryComplete();
        });
    }

    public int SubscriberCount
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
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
