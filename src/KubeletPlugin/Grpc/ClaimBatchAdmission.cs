using System.Globalization;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.State;

namespace SecureDra.KubeletPlugin.Grpc;

/// <summary>
/// Splits one request into claims the pipeline may see and per-UID errors. Rules:
/// <list type="bullet">
/// <item>namespace: DNS-1123 label; name: DNS-1123 subdomain; uid: <see cref="ClaimUid"/> (1-128 characters of [A-Za-z0-9-]).</item>
/// <item>A UID listed more than once is rejected as a whole (no entry for it reaches the pipeline):
/// the kubelet never repeats a claim, so a repeat means a confused or hostile caller, and the
/// response map can only carry one answer per UID anyway.</item>
/// <item>Every distinct requested UID ends up in exactly one of <see cref="Admitted"/> or <see cref="Rejected"/>.</item>
/// </list>
/// </summary>
public sealed class ClaimBatchAdmission
{
    private ClaimBatchAdmission(IReadOnlyList<ClaimRef> admitted, IReadOnlyDictionary<string, Rejection> rejected)
    {
        Admitted = admitted;
        Rejected = rejected;
    }

    public IReadOnlyList<ClaimRef> Admitted { get; }

    public IReadOnlyDictionary<string, Rejection> Rejected { get; }

    /// <summary>Why one UID was refused: <see cref="Reason"/> is a metric label, <see cref="Message"/> goes to the kubelet.</summary>
    public sealed record Rejection(string Reason, string Message);

    public static ClaimBatchAdmission Admit(IReadOnlyList<ClaimRef> claims)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var firstIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var rejected = new Dictionary<string, Rejection>(StringComparer.Ordinal);
        for (var i = 0; i < claims.Count; i++)
        {
            var uid = claims[i].Uid;
            if (firstIndex.TryGetValue(uid, out var first))
            {
                rejected[uid] = new Rejection(
                    "duplicate_uid",
                    $"claims[{i.ToString(CultureInfo.InvariantCulture)}].uid: \"{Quote(uid)}\" repeats claims[{first.ToString(CultureInfo.InvariantCulture)}]; each claim may be listed once per request");
            }
            else
            {
                firstIndex[uid] = i;
            }
        }

        var admitted = new List<ClaimRef>(firstIndex.Count);
        foreach (var (uid, index) in firstIndex)
        {
            if (rejected.ContainsKey(uid))
            {
                continue;
            }

            var error = Check(claims[index], index);
            if (error is not null)
            {
                rejected[uid] = new Rejection("invalid_field", error);
            }
            else
            {
                admitted.Add(new ClaimRef(claims[index].Namespace, claims[index].Name, uid));
            }
        }

        return new ClaimBatchAdmission(admitted, rejected);
    }

    private static string? Check(ClaimRef claim, int index)
    {
        var at = index.ToString(CultureInfo.InvariantCulture);
        if (claim.Uid.Length == 0)
        {
            return $"claims[{at}].uid: must not be empty";
        }

        if (claim.Uid.Length > ClaimRequestLimits.MaxUidLength)
        {
            return $"claims[{at}].uid: {claim.Uid.Length.ToString(CultureInfo.InvariantCulture)} characters exceed the limit of {ClaimRequestLimits.MaxUidLength.ToString(CultureInfo.InvariantCulture)}";
        }

        if (!ClaimUid.IsValid(claim.Uid))
        {
            // The same rule the pipeline and the checkpoint apply: a UID becomes part of file and CDI names.
            return $"claims[{at}].uid: \"{Quote(claim.Uid)}\" is not 1-{ClaimUid.MaxLength.ToString(CultureInfo.InvariantCulture)} characters of [A-Za-z0-9-]";
        }

        if (!DnsNames.IsLabel(claim.Namespace))
        {
            return $"claims[{at}].namespace: \"{Quote(claim.Namespace)}\" is not a valid DNS-1123 label (lower-case alphanumerics and '-', at most {DnsNames.MaxLabelLength.ToString(CultureInfo.InvariantCulture)} characters)";
        }

        if (!DnsNames.IsSubdomain(claim.Name))
        {
            return claim.Name.Length > DnsNames.MaxSubdomainLength
                ? $"claims[{at}].name: {claim.Name.Length.ToString(CultureInfo.InvariantCulture)} characters exceed the DNS-1123 subdomain limit of {DnsNames.MaxSubdomainLength.ToString(CultureInfo.InvariantCulture)}"
                : $"claims[{at}].name: \"{Quote(claim.Name)}\" is not a valid DNS-1123 subdomain (lower-case alphanumerics, '-' and '.', at most {DnsNames.MaxSubdomainLength.ToString(CultureInfo.InvariantCulture)} characters)";
        }

        return null;
    }

    /// <summary>Quotes at most a prefix of a hostile value, with control characters escaped, so messages and logs stay bounded.</summary>
    internal static string Quote(string value)
    {
        var clipped = value.Length <= ClaimRequestLimits.MaxQuotedValueLength ? value : value[..ClaimRequestLimits.MaxQuotedValueLength] + "…";
        var builder = new System.Text.StringBuilder(clipped.Length);
        foreach (var c in clipped)
        {
            if (char.IsControl(c) || c == '"' || c == '\\')
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
