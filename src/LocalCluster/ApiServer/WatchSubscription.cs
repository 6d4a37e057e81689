using System.Threading.Channels;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>A live watch: events already owed to the client (replay) followed by the live channel.</summary>
public sealed class WatchSubscription : IDisposable
{
    private readonly Action<WatchSubscription> _unsubscribe;

    internal WatchSubscription(string typeKey, string? @namespace, IReadOnlyList<StoredEvent> replay, long startResourceVersion, Action<WatchSubscription> unsubscribe)
    {
        TypeKey = typeKey;
        Namespace = @namespace;
        Replay = replay;
        StartResourceVersion = startResourceVersion;
        _unsubscribe = unsubscribe;
    }

    public string TypeKey { get; }

    public string? Namespace { get; }

    /// <summary>Synthetic ADDED events for the initial state, or history since the requested resourceVersion.</summary>
    public IReadOnlyList<StoredEvent> Replay { get; }

    /// <summary>The store's resourceVersion when the watch started.</summary>
    public long StartResourceVersion { get; }

    internal Channel<StoredEvent> Channel { get; } = System.Threading.Channels.Channel.CreateUnbounded<StoredEvent>();

    public ChannelReader<StoredEvent> Live => Channel.Reader;

    public void Dispose()
    {
        _unsubscribe(this);
        Channel.Writer.TryComplete();
    }
}
