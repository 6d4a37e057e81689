namespace SecureDra.Nvml.Backends.Confidential;

/// <summary><c>NVML_CC_SYSTEM_MULTIGPU_*</c>.</summary>
public enum CcMultiGpuMode
{
    None = 0,
    ProtectedPcie = 1,
    Nvle = 2,
}
