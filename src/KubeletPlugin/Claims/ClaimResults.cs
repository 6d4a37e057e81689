namespace SecureDra.KubeletPlugin.Claims;

/// <summary>Per-claim outcome of Prepare: devices, or an error that fails only this claim.</summary>
public sealed record ClaimPrepareResult(IReadOnlyList<PreparedDevice> Devices, string? Error)
{
    public static ClaimPrepareResult Failed(string error) => new([], error);
}

/// <summary>Per-claim outcome of Unprepare: null error means released.</summary>
public sealed record ClaimUnprepareResult(string? Error)
{
    public static ClaimUnprepareResult Ok { get; } = new((string?)null);
}
