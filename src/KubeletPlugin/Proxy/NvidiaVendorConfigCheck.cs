using System.Text;
using SecureDra.Api.Config.Nvidia;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// NVIDIA's <c>resource.nvidia.com/v1beta1</c> kinds, decoded strictly and bounded by <see cref="NvidiaOpaqueConfigValidator"/>
/// under the operator's policy (<c>--allow-mps</c>, <c>--allow-vfio</c>, <c>--allow-compute-domain</c>): TimeSlicing only
/// with an explicit interval, MPS rejected unless allowed (its daemon holds the GPU and would block the scrub).
/// </summary>
public sealed class NvidiaVendorConfigCheck(NvidiaOpaqueConfigValidator validator, NvidiaConfigPolicy policy) : IVendorConfigCheck
{
    public NvidiaConfigPolicy Policy => policy;

    public IReadOnlyList<string> Check(string parametersJson, string path)
    {
        ArgumentNullException.ThrowIfNull(parametersJson);
        var result = validator.Decode(Encoding.UTF8.GetBytes(parametersJson), path, policy);
        return result.IsValid ? [] : [.. result.Errors.Select(e => e.ToString())];
    }
}
