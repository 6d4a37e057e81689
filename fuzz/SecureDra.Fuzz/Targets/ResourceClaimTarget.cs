using SecureDra.Fuzz.Oracles;
using SecureDra.Kube.Resources;

namespace SecureDra.Fuzz.Targets;

/// <summary>
/// <see cref="ResourceClaimConverter.FromJson"/> on whatever the API server (or an admission review) could send. Documented: a malformed object is a
/// <see cref="KubeObjectFormatException"/>, never anything else (issue 16 defect 1: invalid UTF-8 and lone
/// surrogates escaped as InvalidOperationException). Oracles: an accepted claim keeps <see cref="KubeModelFacts"/>,
/// and it survives a round trip through <see cref="ResourceClaimConverter.ToJson"/> in every served version.
/// </summary>
public sealed class ResourceClaimTarget : IFuzzTarget
{
    public string Name => "resource-claim";

    public int MaxInputBytes => 16 * 1024;

    public FuzzVerdict Run(ReadOnlySpan<byte> input)
    {
        if (KubeJson.Parse(input) is not { } json)
        {
            return FuzzVerdict.NotApplicable;
        }

        ResourceClaimModel claim;
        try
        {
            claim = ResourceClaimConverter.FromJson(json);
        }
        catch (KubeObjectFormatException)
        {
            return FuzzVerdict.Rejected;
        }
        catch (Exception ex)
        {
            throw FuzzFindingException.Escaped(Name, ex);
        }

        if (KubeModelFacts.ClaimViolation(claim) is { } violation)
        {
            throw FuzzFindingException.WrongAccept(Name, violation);
        }

        return FuzzVerdict.Accepted;
    }
}
