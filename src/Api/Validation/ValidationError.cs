namespace SecureDra.Api.Validation;

/// <summary>One violation, e.g. <c>config[1].opaque.parameters.sharingTimeSliceMs: 0 is below the minimum 1</c>.</summary>
public sealed record ValidationError(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}
