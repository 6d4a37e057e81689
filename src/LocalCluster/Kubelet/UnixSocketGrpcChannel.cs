using System.Net.Sockets;
using Grpc.Net.Client;

namespace SecureDra.LocalCluster.Kubelet;

/// <summary>
/// A gRPC channel over a Unix socket, as the kubelet dials plugins: plaintext HTTP/2 with prior
/// knowledge and authority <c>localhost</c> (the address below is only a placeholder; error texts
/// show it instead of the socket path, so callers log the path themselves).
/// </summary>
public static class UnixSocketGrpcChannel
{
    /// <param name="socketPath">Absolute path of the socket.</param>
    /// <param name="onConnect">Called each time a new connection is opened (lets tests see reconnects).</param>
    public static GrpcChannel Create(string socketPath, Action? onConnect = null)
    {
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
        return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        });
    }
}
