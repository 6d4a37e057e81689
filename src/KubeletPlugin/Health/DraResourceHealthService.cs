using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Protocol.Health.V1Alpha1;
using ProtoHealthStatus = SecureDra.Protocol.Health.V1Alpha1.HealthStatus;

namespace SecureDra.KubeletPlugin.Health;

/// <summary>
/// v1alpha1.DRAResourceHealth/NodeWatchResources: the complete device list right away, again on
/// every change, and at least every <see cref="HealthOptions.ResendInterval"/> so the kubelet's
/// 30 s staleness timer never fires for a healthy device. Each stream has its own subscription,
/// released when the kubelet goes away. A stream also ends when the plugin shuts down: Kestrel
/// would otherwise wait for it until the shutdown timeout; the kubelet reconnects within 5 s.
/// </summary>
public sealed partial class DraResourceHealthService(
    DeviceHealthTracker tracker,
    HealthOptions options,
    HealthPoolName poolName,
    TimeProvider timeProvider,
    IHostApplicationLifetime lifetime,
    ILogger<DraResourceHealthService> logger) : DRAResourceHealth.DRAResourceHealthBase
{
    /// <summary>The kubelet truncates longer messages; stay inside its limit.</summary>
    private const int MaxMessageLength = 1024;

    public override async Task NodeWatchResources(NodeWatchResourcesRequest request, IServerStreamWriter<NodeWatchResourcesResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var ct = linked.Token;
        using var subscription = tracker.Subscribe();
        LogStreamOpened(logger, context.Peer);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await responseStream.WriteAsync(BuildResponse(), ct).ConfigureAwait(false);
                using var resend = CancellationTokenSource.CreateLinkedTokenSource(ct);
                resend.CancelAfter(options.ResendInterval);
                try
                {
                    await subscription.Changes.ReadAsync(resend.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // Periodic resend.
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The kubelet closed the stream.
        }
        finally
        {
            LogStreamClosed(logger, context.Peer);
        }
    }

    private NodeWatchResourcesResponse BuildResponse()
    {
        var now = timeProvider.GetUtcNow().ToUnixTimeSeconds();
        var response = new NodeWatchResourcesResponse();
        foreach (var device in tracker.Snapshot())
        {
            response.Devices.Add(new SecureDra.Protocol.Health.V1Alpha1.DeviceHealth
            {
                Device = new DeviceIdentifier { PoolName = poolName.Value, DeviceName = device.DeviceName },
                Health = device.Status switch
                {
                    DeviceHealthStatus.Healthy => ProtoHealthStatus.Healthy,
                    DeviceHealthStatus.Unhealthy => ProtoHealthStatus.Unhealthy,
                    _ => ProtoHealthStatus.Unknown,
                },
                LastUpdatedTime = now,
                HealthCheckTimeoutSeconds = options.HealthCheckTimeoutSeconds,
                Message = Truncate(device.Message),
            });
        }

        return response;
    }

    /// <summary>At most <see cref="MaxMessageLength"/> characters, never splitting a surrogate pair.</summary>
    public static string Truncate(string message)
    {
        if (message.Length <= MaxMessageLength)
        {
            return message;
        }

        var end = char.IsHighSurrogate(message[MaxMessageLength - 1]) ? MaxMessageLength - 1 : MaxMessageLength;
        return message[..end];
    }
}

/// <summary>The pool the node's devices are published in (the node name).</summary>
public sealed record HealthPoolName(string Value);
