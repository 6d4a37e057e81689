using Grpc.Core;
using SecureDra.Protocol.Dra.V1Beta1;

namespace SecureDra.KubeletPlugin.Grpc;

/// <summary>
/// <c>k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin</c> (kubelet 1.32, 1.33; fallback for 1.34+): <see cref="DraMessageMapping"/>
/// over the v1beta1 types, which have no share_id.
/// </summary>
public sealed class V1Beta1DraPluginService(DraRequestHandler handler) : DRAPlugin.DRAPluginBase
{
    public override Task<NodePrepareResourcesResponse> NodePrepareResources(NodePrepareResourcesRequest request, ServerCallContext context) =>
        DraMessageMapping.PrepareAsync<Claim, NodePrepareResourcesResponse, NodePrepareResourceResponse, Device>(handler, request, context);

    public override Task<NodeUnprepareResourcesResponse> NodeUnprepareResources(NodeUnprepareResourcesRequest request, ServerCallContext context) =>
        DraMessageMapping.UnprepareAsync<Claim, NodeUnprepareResourcesResponse, NodeUnprepareResourceResponse>(handler, request, context);
}
