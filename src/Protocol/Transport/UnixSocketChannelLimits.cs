namespace SecureDra.Protocol.Transport;

/// <summary>
/// Bounds for a <see cref="UnixSocketChannel"/>: a bigger answer or request fails the call; null
/// means the gRPC default (no send limit; the handler's infinite connect timeout).
/// </summary>
public sealed record UnixSocketChannelLimits(int MaxReceiveBytes, int? MaxSendBytes = null, TimeSpan? ConnectTimeout = null);
