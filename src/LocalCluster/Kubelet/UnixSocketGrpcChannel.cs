using Grpc.Net.Client;
using SecureDra.Protocol.Transport;

namespace SecureDra.LocalCluster.Kubelet;

/// <summary>
/// The kubelet emulator's channel to a plugin socket: <see cref="UnixSocketChannel"/> with the
/// kubelet's answer bound (16 MiB) and no connect timeout of its own (callers pass deadlines).
/// </summary>
public static class UnixSocketGrpcChannel
{
    private static readonly UnixSocketChannelLimits KubeletLimits = new(MaxReceiveBytes: 16 * 1024 * 1024);

    /// <param name="socketPath">Absolute path of the socket.</param>
    /// <param name="onConnect">Called each time a new connection is opened (lets tests see reconnects).</param>
    public static GrpcChannel Create(string socketPath, Action? onConnect = null) =>
        UnixSocketChannel.Create(socketPath, KubeletLimits, onConnect);
}
