namespace SecureDra.Nvml.Backends.Confidential;

/// <summary><c>NVML_CC_SYSTEM_ENVIRONMENT_*</c>.</summary>
public enum CcEnvironment
{
    Unavailable = 0,
    Simulation = 1,
    Production = 2,
}
