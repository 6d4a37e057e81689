using System.Net.Sockets;
using Grpc.Net.Client;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// A gRPC channel to a vendor socket, dialled as the kubelet dials plugins: plaintext HTTP/2 with prior knowledge and
/// <c>:authority localhost</c>. Answers are bounded by <paramref name="maxReceiveBytes"/>; a bigger one fails the call.
/// </summary>
public static class VendorChannel
{
    public static GrpcChannel Create(string socketPath, int maxReceiveBytes)
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
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = maxReceiveBytes,
            MaxSendMessageSize = 4 * 1024 * 1024,
        });
    }

    /// <summary>True when something accepts a connection on <paramref name="socketPath"/> within the timeout.</summary>
    public static async Task<bool> IsListeningAsync(string socketPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
    }
}
