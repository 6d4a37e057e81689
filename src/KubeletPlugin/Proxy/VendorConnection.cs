using Grpc.Net.Client;
using SecureDra.KubeletPlugin.Claims;
using V1 = SecureDra.Protocol.Dra.V1;
using V1Beta1 = SecureDra.Protocol.Dra.V1Beta1;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>The proxy's one long-lived connection to an accepted vendor endpoint.</summary>
public sealed class VendorConnection : IVendorDraClient, IDisposable
{
    private readonly GrpcChannel _channel;

    public VendorConnection(VendorEndpoint endpoint, ProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        Endpoint = endpoint;
        _channel = VendorChannel.Create(endpoint.EndpointPath, options.MaxVendorMessageBytes);
    }

    public VendorEndpoint Endpoint { get; }

    public async Task<IReadOnlyDictionary<string, VendorClaimAnswer>> PrepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        if (Endpoint.Version == VendorDraVersion.V1)
        {
            var request = new V1.NodePrepareResourcesRequest();
            request.Claims.Add(claims.Select(c => new V1.Claim { Namespace = c.Namespace, Name = c.Name, Uid = c.Uid }));
            var response = await new V1.DRAPlugin.DRAPluginClient(_channel).NodePrepareResourcesAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Claims.ToDictionary(
                e => e.Key,
                e => new VendorClaimAnswer(
                    [.. e.Value.Devices.Select(d => new PreparedDevice([.. d.RequestNames], d.PoolName, d.DeviceName, [.. d.CdiDeviceIds], d.HasShareId ? d.ShareId : null))],
                    e.Value.Error),
                StringComparer.Ordinal);
        }
        else
        {
            var request = new V1Beta1.NodePrepareResourcesRequest();
            request.Claims.Add(claims.Select(c => new V1Beta1.Claim { Namespace = c.Namespace, Name = c.Name, Uid = c.Uid }));
            var response = await new V1Beta1.DRAPlugin.DRAPluginClient(_channel).NodePrepareResourcesAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Claims.ToDictionary(
                e => e.Key,
                e => new VendorClaimAnswer(
                    [.. e.Value.Devices.Select(d => new PreparedDevice([.. d.RequestNames], d.PoolName, d.DeviceName, [.. d.CdiDeviceIds]))],
                    e.Value.Error),
                StringComparer.Ordinal);
        }
    }

    public async Task<IReadOnlyDictionary<string, string>> UnprepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        if (Endpoint.Version == VendorDraVersion.V1)
        {
            var request = new V1.NodeUnprepareResourcesRequest();
            request.Claims.Add(claims.Select(c => new V1.Claim { Namespace = c.Namespace, Name = c.Name, Uid = c.Uid }));
            var response = await new V1.DRAPlugin.DRAPluginClient(_channel).NodeUnprepareResourcesAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Claims.ToDictionary(e => e.Key, e => e.Value.Error, StringComparer.Ordinal);
        }
        else
        {
            var request = new V1Beta1.NodeUnprepareResourcesRequest();
            request.Claims.Add(claims.Select(c => new V1Beta1.Claim { Namespace = c.Namespace, Name = c.Name, Uid = c.Uid }));
            var response = await new V1Beta1.DRAPlugin.DRAPluginClient(_channel).NodeUnprepareResourcesAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Claims.ToDictionary(e => e.Key, e => e.Value.Error, StringComparer.Ordinal);
        }
    }

    /// <summary>The vendor's device health stream (only when its GetInfo offers v1alpha1.DRAResourceHealth).</summary>
    public global::Grpc.Core.AsyncServerStreamingCall<SecureDra.Protocol.Health.V1Alpha1.NodeWatchResourcesResponse> WatchHealth(CancellationToken cancellationToken) =>
        new SecureDra.Protocol.Health.V1Alpha1.DRAResourceHealth.DRAResourceHealthClient(_channel)
            .NodeWatchResources(new SecureDra.Protocol.Health.V1Alpha1.NodeWatchResourcesRequest(), cancellationToken: cancellationToken);

    public void Dispose() => _channel.Dispose();
}
