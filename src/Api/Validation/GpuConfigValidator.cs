namespace SecureDra.Api.Validation;

/// <summary>The strict, bounded GpuConfig decoder. (Contract stub: implemented by the config-API work.)</summary>
public sealed class GpuConfigValidator(GpuConfigLimits limits) : IGpuConfigValidator
{
    public GpuConfigLimits Limits { get; } = limits;

    public GpuConfigDecodeResult Decode(ReadOnlySpan<byte> parametersJson, string path, ConfigOrigin origin) =>
        throw new NotImplementedException();
}
