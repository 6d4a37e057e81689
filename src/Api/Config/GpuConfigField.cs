namespace SecureDra.Api.Config;

/// <summary>
/// One row of <see cref="GpuConfigSchema.Table"/>: a field's name, the only value it accepts (every GpuConfig field
/// is a fixed string today), whether it must be present, and how an error states the rule ("must be X").
/// </summary>
public sealed record GpuConfigField(string Name, string Value, bool Required, string Expectation);
