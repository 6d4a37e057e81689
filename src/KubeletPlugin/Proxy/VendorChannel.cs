using System.Net.Sockets;
using Grpc.Net.Client;
using SecureDra.Protocol.Transport;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// A gRPC channel to a vendor socket, dialled as the kubelet dials plugins (<see cref="UnixSocketChannel"/>) with the
/// proxy's limits: answers bounded by the caller's <c>maxReceiveBytes</c> (a bigger one fails the call), requests by
/// 4 MiB, and a connect that takes over 5 s fails, so a wedged vendor cannot hold a kubelet call open.
/// </summary>
public static class VendorChannel
{
    public static GrpcChannel Create(string socketPath, int maxReceiveBytes) =>
        UnixSocketChannel.Create(
            socketPath,
            new UnixSocketChannelLimits(maxReceiveBytes, MaxSendBytes: 4 * 1024 * 1024, ConnectTimeout: TimeSpan.FromSeconds(5)));

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
