namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>The GPUs a simulated MIG-capable device can pretend to be (fault file field <c>migModel</c>); H100-80GB by default.</summary>
public enum SimulatedMigModel
{
    H100_80GB = 0,
    A100_40GB,
    A100_80GB,
}

/// <summary>Names of <see cref="SimulatedMigModel"/> as the fault file spells them.</summary>
public static class SimulatedMigModels
{
    public static IReadOnlyList<string> Names { get; } = ["H100-80GB", "A100-40GB", "A100-80GB"];

    public static SimulatedMigModel? Parse(string? name) => name switch
    {
        null or "H100-80GB" => SimulatedMigModel.H100_80GB,
        "A100-40GB" => SimulatedMigModel.A100_40GB,
        "A100-80GB" => SimulatedMigModel.A100_80GB,
        _ => null,
    };
}
