using Grpc.Core;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.Protocol.Dra.V1;

namespace SecureDra.KubeletPlugin.Grpc;

/// <summary><c>k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin</c> (kubelet 1.34+): <see cref="DraMessageMapping"/> over the v1 types, plus share_id.</summary>
public sealed class V1DraPluginService(DraRequestHandler handler) : DRAPlugin.DRAPluginBase
{
    public override Task<NodePrepareResourcesResponse> NodePrepareResources(NodePrepareResourcesRequest request, ServerCallContext context) =>
        DraMessageMapping.PrepareAsync<Claim, NodePrepareResourcesResponse, NodePrepareResourceResponse, Device>(handler, request, context, SetShareId);

    public override Task<NodeUnprepareResourcesResponse> NodeUnprepareResources(NodeUnprepareResourcesRequest request, ServerCallContext context) =>
        DraMessageMapping.UnprepareAsync<Claim, NodeUnprepareResourcesResponse, NodeUnprepareResourceResponse>(handler, request, context);

    /// <summary>share_id (field 5) exists in v1 only (kubelet 1.35+); absent when the device is not shared.</summary>
    private static void SetShareId(PreparedDevice device, Device wire)
    {
        if (device.ShareId is not null)
        {
            wire.ShareId = device.ShareId;
        }
    }
}
