namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// The MIG instances that exist on one simulated GPU, persisted as <c>DIR/&lt;device&gt;.mig.json</c> the way the driver
/// keeps them across a plugin restart (not across a "reboot": deleting the file is one).
/// </summary>
public sealed record SimulatedMigState
{
    public static SimulatedMigState Empty { get; } = new();

    public IReadOnlyList<SimulatedGpuInstance> Instances { get; init; } = [];
}

/// <summary>One persisted GPU instance: placement, compute instances and the MIG UUID of its (single) compute instance.</summary>
public sealed record SimulatedGpuInstance
{
    public int GpuInstanceId { get; init; }

    public int ProfileId { get; init; }

    public int Start { get; init; }

    public int Size { get; init; }

    public IReadOnlyList<int> ComputeInstanceIds { get; init; } = [];

    public string? Uuid { get; init; }
}
