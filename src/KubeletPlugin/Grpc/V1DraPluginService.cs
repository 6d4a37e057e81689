using Grpc.Core;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.Protocol.Dra.V1;

namespace SecureDra.KubeletPlugin.Grpc;

/// <summary><c>k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin</c> (kubelet 1.34+): the v1 message types for <see cref="DraMessageMapping"/>.</summary>
public sealed class V1DraPluginService(DraRequestHandler handler) : DRAPlugin.DRAPluginBase
{
    private static readonly DraMessageMapping.PrepareEntryShape<NodePrepareResourceResponse, Device> PrepareEntry = new(
        () => new NodePrepareResourceResponse(),
        (entry, error) => entry.Error = error,
        entry => entry.Devices,
        ToDevice);

    public override async Task<NodePrepareResourcesResponse> NodePrepareResources(NodePrepareResourcesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new NodePrepareResourcesResponse();
        await DraMessageMapping.PrepareAsync(handler, request.Claims, ToClaimRef, context, response.Claims, PrepareEntry).ConfigureAwait(false);
        return response;
    }

    public override async Task<NodeUnprepareResourcesResponse> NodeUnprepareResources(NodeUnprepareResourcesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new NodeUnprepareResourcesResponse();
        await DraMessageMapping.UnprepareAsync(handler, request.Claims, ToClaimRef, context, response.Claims, error => new NodeUnprepareResourceResponse { Error = error }).ConfigureAwait(false);
        return response;
    }

    private static ClaimRef ToClaimRef(Claim c) => new(c.Namespace, c.Name, c.Uid);

    private static Device ToDevice(PreparedDevice device)
    {
        var wire = new Device { PoolName = device.PoolName, DeviceName = device.DeviceName };
        wire.RequestNames.Add(device.RequestNames);
        wire.CdiDeviceIds.Add(device.CdiDeviceIds);
        if (device.ShareId is not null)
        {
            wire.ShareId = device.ShareId;
        }

        return wire;
    }
}
