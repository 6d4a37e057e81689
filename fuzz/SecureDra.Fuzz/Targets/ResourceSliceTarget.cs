using SecureDra.Fuzz.Oracles;
using SecureDra.Kube.Resources;

namespace SecureDra.Fuzz.Targets;

/// <summary>
/// <see cref="ResourceSliceConverter.FromJson"/> on whatever a LIST, GET or watch could carry. Documented: a
/// malformed slice is a <see cref="KubeObjectFormatException"/>. Oracle: an accepted slice keeps
/// <see cref="KubeModelFacts"/> (exactly one value per attribute, valid Unicode, required names set).
/// </summary>
public sealed class ResourceSliceTarget : IFuzzTarget
{
    public string Name => "resource-slice";

    public int MaxInputBytes => 16 * 1024;

    public FuzzVerdict Run(ReadOnlySpan<byte> input)
    {
        if (KubeJson.Parse(input) is not { } json)
        {
            return FuzzVerdict.NotApplicable;
        }

        ResourceSliceModel slice;
        try
        {
            slice = ResourceSliceConverter.FromJson(json);
        }
        catch (KubeObjectFormatException)
        {
            return FuzzVerdict.Rejected;
        }
        catch (Exception ex)
        {
            throw FuzzFindingException.Escaped(Name, ex);
        }

        if (KubeModelFacts.SliceViolation(slice) is { } violation)
        {
            throw FuzzFindingException.WrongAccept(Name, violation);
        }

        return FuzzVerdict.Accepted;
    }
}
