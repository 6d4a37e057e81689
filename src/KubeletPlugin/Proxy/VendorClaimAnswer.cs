using SecureDra.KubeletPlugin.Claims;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>One claim's entry in the vendor's Prepare answer, as received (not yet checked).</summary>
public sealed record VendorClaimAnswer(IReadOnlyList<PreparedDevice> Devices, string Error);

/// <summary>Prepare and Unprepare at the vendor, on whichever DRA version it was registered with.</summary>
public interface IVendorDraClient
{
    /// <summary>The vendor's answer, every entry it sent (including UIDs nobody asked about: the caller checks).</summary>
    Task<IReadOnlyDictionary<string, VendorClaimAnswer>> PrepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken);

    /// <summary>Per UID, the vendor's error text; empty means released.</summary>
    Task<IReadOnlyDictionary<string, string>> UnprepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken);
}
