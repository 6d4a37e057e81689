using SecureDra.Api.Validation;

namespace SecureDra.Api.Config.Nvidia;

/// <summary>
/// Lets the ResourceObjectValidator walk (webhook, <c>securedra validate</c>) judge a driver's opaque configs as
/// NVIDIA's kinds under the proxy's policy. That walk uses only the errors; a valid NVIDIA config is reported with
/// the default <see cref="GpuConfig"/> because the proxy scrubs every GPU on release whatever the config says.
/// </summary>
public sealed class NvidiaResourceConfigValidator(NvidiaOpaqueConfigValidator validator, NvidiaConfigPolicy policy) : IGpuConfigValidator
{
    public NvidiaOpaqueConfigValidator Validator { get; } = validator ?? throw new ArgumentNullException(nameof(validator));

    public NvidiaConfigPolicy Policy { get; } = policy ?? throw new ArgumentNullException(nameof(policy));

    // A DeviceClass and a claim get the same rules: the proxy's policy is the operator's, not a class author's.
    public GpuConfigDecodeResult Decode(ReadOnlySpan<byte> parametersJson, string path, ConfigOrigin origin)
    {
        var result = Validator.Decode(parametersJson, path, Policy);
        return new GpuConfigDecodeResult(result.IsValid ? new GpuConfig() : null, result.Errors);
    }
}
