using System.Text.RegularExpressions;
using Google.Protobuf;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Grpc;
using SecureDra.Protocol.Dra.V1;

namespace SecureDra.Fuzz.Targets;

/// <summary>
/// The admission of a kubelet DRA request: the input is a serialized <c>NodePrepareResourcesRequest</c> (v1; v1beta1
/// has the same claim fields; see <see cref="Decode"/> for inputs that are not protobuf), mapped to <see cref="ClaimRef"/>s as the gRPC service does, then
/// <see cref="ClaimBatchAdmission.Admit"/>. Documented: never throws. Oracles: every distinct UID ends up in exactly
/// one of admitted or rejected; a UID listed twice is never admitted; an admitted claim has a DNS-1123 label
/// namespace, a DNS-1123 subdomain name and a UID of 1 to 128 characters of [A-Za-z0-9-] (it names files; checked here with Kubernetes' own regular
/// expressions, not the project's code); a rejection's reason is from the closed set and its message is bounded
/// with no control characters.
/// </summary>
public sealed partial class GrpcClaimAdmissionTarget : IFuzzTarget
{
    public string Name => "grpc-claims";

    public int MaxInputBytes => 16 * 1024;

    public FuzzVerdict Run(ReadOnlySpan<byte> input)
    {
        if (Decode(input) is not { } claims)
        {
            return FuzzVerdict.NotApplicable;
        }

        ClaimBatchAdmission admission;
        try
        {
            admission = ClaimBatchAdmission.Admit(claims);
        }
        catch (Exception ex)
        {
            throw FuzzFindingException.Escaped(Name, ex);
        }

        var counts = claims.GroupBy(c => c.Uid, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var admitted = admission.Admitted.Select(c => c.Uid).ToList();
        if (admitted.Distinct(StringComparer.Ordinal).Count() != admitted.Count
            || admitted.Any(admission.Rejected.ContainsKey)
            || admitted.Count + admission.Rejected.Count != counts.Count
            || !admitted.Concat(admission.Rejected.Keys).All(counts.ContainsKey))
        {
            throw new FuzzFindingException($"{Name}: the {counts.Count} distinct UIDs are not split into admitted ({admitted.Count}) and rejected ({admission.Rejected.Count}) exactly once each");
        }

        foreach (var claim in admission.Admitted)
        {
            var why = counts[claim.Uid] > 1 ? "a repeated UID"
                : claim.Uid.Length is < 1 or > 128 ? $"a UID of {claim.Uid.Length} characters"
                : !Uid().IsMatch(claim.Uid) ? "a UID with a character outside [A-Za-z0-9-]"
                : claim.Namespace.Length > 63 || !Label().IsMatch(claim.Namespace) ? "a namespace that is not a DNS-1123 label"
                : claim.Name.Length > 253 || !Subdomain().IsMatch(claim.Name) ? "a name that is not a DNS-1123 subdomain"
                : null;
            if (why is not null)
            {
                throw FuzzFindingException.WrongAccept(Name, $"admitted {why}");
            }
        }

        foreach (var (uid, rejection) in admission.Rejected)
        {
            if (rejection.Reason is not ("duplicate_uid" or "invalid_field") || rejection.Message.Length > 512 || rejection.Message.Any(char.IsControl))
            {
                throw new FuzzFindingException($"{Name}: rejection of a {uid.Length}-character UID has reason '{rejection.Reason}' and a {rejection.Message.Length}-character message (closed reasons, at most 512 characters, no control characters)");
            }
        }

        return admitted.Count > 0 ? FuzzVerdict.Accepted : FuzzVerdict.Rejected;
    }

    /// <summary>
    /// A protobuf request when the input is one; otherwise (most byte mutations break a length prefix) claims as
    /// NUL-separated namespace, name, uid triples, so the mutation loop still reaches the admission logic with
    /// the strings gRPC could deliver (valid UTF-8 only: protobuf refuses anything else).
    /// </summary>
    private static ClaimRef[]? Decode(ReadOnlySpan<byte> input)
    {
        try
        {
            var request = NodePrepareResourcesRequest.Parser.ParseFrom(input);
            return [.. request.Claims.Select(c => new ClaimRef(c.Namespace, c.Name, c.Uid))];
        }
        catch (InvalidProtocolBufferException)
        {
        }

        if (!System.Text.Unicode.Utf8.IsValid(input))
        {
            return null;
        }

        var fields = System.Text.Encoding.UTF8.GetString(input).Split('\0');
        var claims = new ClaimRef[fields.Length / 3];
        for (var i = 0; i < claims.Length; i++)
        {
            claims[i] = new ClaimRef(fields[3 * i], fields[(3 * i) + 1], fields[(3 * i) + 2]);
        }

        return claims.Length > 0 ? claims : null;
    }

    [GeneratedRegex(@"^[A-Za-z0-9-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex Uid();

    // k8s.io/apimachinery/pkg/util/validation: dns1123LabelFmt and dns1123SubdomainFmt.
    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Label();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Subdomain();
}
