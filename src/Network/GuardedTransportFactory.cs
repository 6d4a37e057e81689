using System.Net;
using Microsoft.AspNetCore.Connections;

namespace SecureDra.Network;

/// <summary>
/// Wraps Kestrel's socket transport so a guarded listener's descriptor ceiling holds from the moment of accept.
/// Connection middleware (<see cref="ConnectionGuard.Middleware"/>) only runs once Kestrel has scheduled the
/// connection on the thread pool; under a flood on a busy machine accepted sockets pile up before that, and each one
/// is a descriptor (measured: a flood on the plugin's HTTP port under a 512-descriptor limit made a GPU file read fail
/// with EMFILE). Here a connection over the ceiling is closed in the accept loop itself. Every other endpoint (the
/// kubelet's Unix sockets) passes through untouched.
/// </summary>
public sealed class GuardedTransportFactory(IConnectionListenerFactory inner, IEnumerable<ConnectionGuard> guards)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly ConnectionGuard[] _guards = [.. guards];

    public bool CanBind(EndPoint endpoint) => inner is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint);

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = await inner.BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var guard = Find(endpoint);
        return guard is null ? listener : new CeilingListener(listener, guard);
    }

    /// <summary>The guard whose endpoint object Kestrel binds; by value only when that is unambiguous (a fixed port).</summary>
    private ConnectionGuard? Find(EndPoint endpoint) =>
        _guards.FirstOrDefault(g => ReferenceEquals(g.Endpoint, endpoint))
        ?? (_guards.Count(g => g.Endpoint.Equals(endpoint)) == 1 && endpoint is not IPEndPoint { Port: 0 } ? _guards.Single(g => g.Endpoint.Equals(endpoint)) : null);

    private sealed class CeilingListener(IConnectionListener inner, ConnectionGuard guard) : IConnectionListener
    {
        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                var connection = await inner.AcceptAsync(cancellationToken).ConfigureAwait(false);
                if (connection is null || guard.TryTakeDescriptor(connection))
                {
                    return connection;
                }

                connection.Abort(new ConnectionAbortedException($"listener {guard.Listener} holds its ceiling of {guard.DescriptorCeiling} descriptors"));
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => inner.UnbindAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
