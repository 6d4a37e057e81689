using System.Net.Sockets;
using Grpc.Net.Client;

namespace SecureDra.Protocol.Transport;

/// <summary>
/// The one way SecureDra dials a gRPC server on a Unix socket, as the kubelet dials plugins:
/// plaintext HTTP/2 with prior knowledge and <c>:authority localhost</c> (the address is only a
/// placeholder; error texts show it instead of the socket path, so callers log the path themselves).
/// Connections are kept for the channel's life. Lives here, below both the node daemon and the local
/// cluster, because both speak these protocols over Unix sockets; each keeps its own limits.
/// </summary>
public static class UnixSocketChannel
{
    /// <param name="socketPath">Absolute path of the socket.</param>
    /// <param name="limits">The caller's bounds on answers, requests and connecting.</param>
    /// <param name="onConnect">Called each time a new connection is opened (lets tests see reconnects).</param>
    public static GrpcChannel Create(string socketPath, UnixSocketChannelLimits limits, Action? onConnect = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var endpoint = new UnixDomainSocketEndPoint(socketPath);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                    onConnect?.Invoke();
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        if (limits.ConnectTimeout is { } connectTimeout)
        {
            handler.ConnectTimeout = connectTimeout;
        }

        return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = limits.MaxReceiveBytes,
            MaxSendMessageSize = limits.MaxSendBytes,
        });
    }
}
