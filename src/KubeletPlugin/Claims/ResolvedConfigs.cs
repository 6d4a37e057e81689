using SecureDra.Api.Config;
using SecureDra.Api.Validation;

namespace SecureDra.KubeletPlugin.Claims;

/// <summary>The effective GpuConfig per allocation result (null = defaults), or the errors that fail the claim.</summary>
public sealed record ResolvedConfigs(IReadOnlyList<GpuConfig?> PerResult, IReadOnlyList<ValidationError> Errors);
