using SecureDra.Api.Config;

namespace SecureDra.Api.Validation;

/// <summary>Either a config, or at least one error naming the field and the limit.</summary>
public sealed record GpuConfigDecodeResult(GpuConfig? Config, IReadOnlyList<ValidationError> Errors)
{
    public bool IsValid => Config is not null && Errors.Count == 0;
}
