namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// Strict check of one opaque config addressed to the proxied driver (for NVIDIA: the <c>resource.nvidia.com/v1beta1</c>
/// kinds under the operator's <c>--allow-mps</c>/<c>--allow-vfio</c>/<c>--allow-compute-domain</c> policy).
/// </summary>
public interface IVendorConfigCheck
{
    /// <returns>Errors, each naming the field and the limit; empty when the vendor may see it.</returns>
    IReadOnlyList<string> Check(string parametersJson, string path);
}

/// <summary>Fail-closed default: no opaque config reaches the vendor unless a real check is registered.</summary>
public sealed class RejectingVendorConfigCheck : IVendorConfigCheck
{
    public IReadOnlyList<string> Check(string parametersJson, string path) =>
        [$"{path}: opaque configs for the proxied driver are not accepted by this build"];
}
