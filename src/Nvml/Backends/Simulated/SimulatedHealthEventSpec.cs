namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// A health event to emit, as written in a fault file. <see cref="Kind"/> is one of
/// <c>xid</c>, <c>doubleBitEcc</c>, <c>singleBitEcc</c>, <c>gpuLost</c>, <c>recovered</c> (case-insensitive);
/// <see cref="Data"/> is the Xid number for <c>xid</c>.
/// </summary>
public sealed record SimulatedHealthEventSpec(string Kind, ulong Data = 0, string? Description = null)
{
    public GpuHealthEventKind ParseKind() =>
        Enum.TryParse<GpuHealthEventKind>(Kind, ignoreCase: true, out var kind) && Enum.IsDefined(kind)
            ? kind
            : throw new GpuBackendException($"healthEvents[].kind: unknown kind \"{Kind}\" (allowed: xid, doubleBitEcc, singleBitEcc, gpuLost, recovered)");
}
