using SecureDra.Api.Validation;

namespace SecureDra.Api.Config.Nvidia;

/// <summary>Either a config that passed decoding and the proxy's policy, or at least one error naming the field and the limit.</summary>
public sealed record NvidiaConfigDecodeResult(NvidiaConfig? Config, IReadOnlyList<ValidationError> Errors)
{
    public bool IsValid => Config is not null && Errors.Count == 0;
}
