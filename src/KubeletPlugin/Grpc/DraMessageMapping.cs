using Grpc.Core;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.Protocol.Dra;

namespace SecureDra.KubeletPlugin.Grpc;

/// <summary>
/// The one mapping between DRAPlugin messages and <see cref="DraRequestHandler"/>, for both v1 and v1beta1: their
/// generated types share the shape named in <see cref="IDraClaim"/> and its siblings, so everything decided here (one
/// entry per UID, an error replaces the devices, an absent Unprepare error is the empty string) is written once.
/// A version's service adds only the fields it alone has.
/// </summary>
internal static class DraMessageMapping
{
    public static async Task<TResponse> PrepareAsync<TClaim, TResponse, TEntry, TDevice>(
        DraRequestHandler handler,
        IDraClaimsRequest<TClaim> request,
        ServerCallContext context,
        Action<PreparedDevice, TDevice>? versionFields = null)
        where TClaim : IDraClaim
        where TResponse : IDraClaimsResponse<TEntry>, new()
        where TEntry : IDraPrepareEntry<TDevice>, new()
        where TDevice : IDraDevice, new()
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var results = await handler.PrepareAsync(ToClaimRefs(request), context.CancellationToken).ConfigureAwait(false);
        var response = new TResponse();
        foreach (var (uid, result) in results)
        {
            var entry = new TEntry();
            if (result.Error is { Length: > 0 } error)
            {
                entry.Error = error;
            }
            else
            {
                foreach (var device in result.Devices)
                {
                    var wire = new TDevice { PoolName = device.PoolName, DeviceName = device.DeviceName };
                    wire.RequestNames.Add(device.RequestNames);
                    wire.CdiDeviceIds.Add(device.CdiDeviceIds);
                    versionFields?.Invoke(device, wire);
                    entry.Devices.Add(wire);
                }
            }

            response.Claims.Add(uid, entry);
        }

        return response;
    }

    public static async Task<TResponse> UnprepareAsync<TClaim, TResponse, TEntry>(
        DraRequestHandler handler,
        IDraClaimsRequest<TClaim> request,
        ServerCallContext context)
        where TClaim : IDraClaim
        where TResponse : IDraClaimsResponse<TEntry>, new()
        where TEntry : IDraUnprepareEntry, new()
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var results = await handler.UnprepareAsync(ToClaimRefs(request), context.CancellationToken).ConfigureAwait(false);
        var response = new TResponse();
        foreach (var (uid, result) in results)
        {
            response.Claims.Add(uid, new TEntry { Error = result.Error ?? "" });
        }

        return response;
    }

    private static ClaimRef[] ToClaimRefs<TClaim>(IDraClaimsRequest<TClaim> request)
        where TClaim : IDraClaim =>
        [.. request.Claims.Select(c => new ClaimRef(c.Namespace, c.Name, c.Uid))];
}
