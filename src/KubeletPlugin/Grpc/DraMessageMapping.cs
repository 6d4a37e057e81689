using Grpc.Core;
using SecureDra.KubeletPlugin.Claims;

namespace SecureDra.KubeletPlugin.Grpc;

/// <summary>
/// The one mapping between <see cref="DraRequestHandler"/> results and DRAPlugin messages. v1 and
/// v1beta1 generate distinct but same-shaped C# types, so each version's service passes only the
/// constructors and accessors of its own types; everything it decides (one entry per UID, an error
/// replaces the devices, an absent Unprepare error is the empty string) lives here once.
/// </summary>
internal static class DraMessageMapping
{
    /// <summary>The prepare-entry type of one DRAPlugin version, taken apart into what the mapping needs.</summary>
    public sealed record PrepareEntryShape<TEntry, TDevice>(
        Func<TEntry> NewEntry,
        Action<TEntry, string> SetError,
        Func<TEntry, ICollection<TDevice>> Devices,
        Func<PreparedDevice, TDevice> ToDevice);

    public static async Task PrepareAsync<TClaim, TEntry, TDevice>(
        DraRequestHandler handler,
        IEnumerable<TClaim> claims,
        Func<TClaim, ClaimRef> toClaimRef,
        ServerCallContext context,
        IDictionary<string, TEntry> answer,
        PrepareEntryShape<TEntry, TDevice> shape)
    {
        ArgumentNullException.ThrowIfNull(context);
        var results = await handler.PrepareAsync([.. claims.Select(toClaimRef)], context.CancellationToken).ConfigureAwait(false);
        foreach (var (uid, result) in results)
        {
            var entry = shape.NewEntry();
            if (result.Error is { Length: > 0 } error)
            {
                shape.SetError(entry, error);
            }
            else
            {
                var devices = shape.Devices(entry);
                foreach (var device in result.Devices)
                {
                    devices.Add(shape.ToDevice(device));
                }
            }

            answer.Add(uid, entry);
        }
    }

    public static async Task UnprepareAsync<TClaim, TEntry>(
        DraRequestHandler handler,
        IEnumerable<TClaim> claims,
        Func<TClaim, ClaimRef> toClaimRef,
        ServerCallContext context,
        IDictionary<string, TEntry> answer,
        Func<string, TEntry> newEntry)
    {
        ArgumentNullException.ThrowIfNull(context);
        var results = await handler.UnprepareAsync([.. claims.Select(toClaimRef)], context.CancellationToken).ConfigureAwait(false);
        foreach (var (uid, result) in results)
        {
            answer.Add(uid, newEntry(result.Error ?? ""));
        }
    }
}
