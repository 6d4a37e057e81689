namespace SecureDra.Nvml.Canary;

public enum CanaryVerdict
{
    /// <summary>Every byte the canary could allocate read back as zero.</summary>
    Clean,

    /// <summary>At least one allocated byte was non-zero: a previous tenant's data (or a previous canary's marker) survived a release.</summary>
    Dirty,

    /// <summary>The check could not finish (no device, no memory, timeout): nothing is proven either way.</summary>
    Incomplete,
}
