namespace SecureDra.Api.Validation;

/// <summary>
/// The one strict, bounded decoder for opaque GpuConfig parameters, shared by the kubelet
/// plugin, the admission webhook and <c>securedra validate</c>. <paramref name="path"/> prefixes
/// every error, e.g. <c>config[1].opaque.parameters</c>. Never throws for bad input.
/// </summary>
public interface IGpuConfigValidator
{
    GpuConfigDecodeResult Decode(ReadOnlySpan<byte> parametersJson, string path, ConfigOrigin origin);
}
