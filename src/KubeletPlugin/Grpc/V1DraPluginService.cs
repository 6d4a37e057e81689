using Grpc.Core;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.Protocol.Dra.V1;

namespace SecureDra.KubeletPlugin.Grpc;

/// <summary><c>k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin</c> (kubelet 1.34+): a message adapter over <see cref="DraRequestHandler"/>.</summary>
public sealed class V1DraPluginService(DraRequestHandler handler) : DRAPlugin.DRAPluginBase
{
    public override async Task<NodePrepareResourcesResponse> NodePrepareResources(NodePrepareResourcesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var results = await handler.PrepareAsync(ToWire(request.Claims), context.CancellationToken).ConfigureAwait(false);
        var response = new NodePrepareResourcesResponse();
        foreach (var (uid, result) in results)
        {
            var entry = new NodePrepareResourceResponse();
            if (result.Error is { Length: > 0 } error)
            {
                entry.Error = error;
            }
            else
            {
                foreach (var device in result.Devices)
                {
                    var wire = new Device { PoolName = device.PoolName, DeviceName = device.DeviceName };
                    wire.RequestNames.Add(device.RequestNames);
                    wire.CdiDeviceIds.Add(device.CdiDeviceIds);
                    if (device.ShareId is not null)
                    {
                        wire.ShareId = device.ShareId;
                    }

                    entry.Devices.Add(wire);
                }
            }

            response.Claims.Add(uid, entry);
        }

        return response;
    }

    public override async Task<NodeUnprepareResourcesResponse> NodeUnprepareResources(NodeUnprepareResourcesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var results = await handler.UnprepareAsync(ToWire(request.Claims), context.CancellationToken).ConfigureAwait(false);
        var response = new NodeUnprepareResourcesResponse();
        foreach (var (uid, result) in results)
        {
            response.Claims.Add(uid, new NodeUnprepareResourceResponse { Error = result.Error ?? "" });
        }

        return response;
    }

    private static ClaimRef[] ToWire(Google.Protobuf.Collections.RepeatedField<Claim> claims) =>
        [.. claims.Select(c => new ClaimRef(c.Namespace, c.Name, c.Uid))];
}
