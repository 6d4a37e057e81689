namespace SecureDra.Nvml.Backends.Mig;

/// <summary>The MIG failures a caller reacts to differently, mapped from NVML's return codes.</summary>
public enum MigErrorCode
{
    /// <summary>Anything else (the message has NVML's code and text).</summary>
    Other = 0,

    /// <summary>NVML_ERROR_INSUFFICIENT_RESOURCES: the placement overlaps an instance, or no room is left.</summary>
    InsufficientResources,

    /// <summary>NVML_ERROR_IN_USE: processes or compute instances remain on what is being destroyed.</summary>
    InUse,

    /// <summary>NVML_ERROR_NO_PERMISSION: the caller lacks the mig-config capability / CAP_SYS_ADMIN.</summary>
    NoPermission,

    /// <summary>NVML_ERROR_NOT_SUPPORTED: no MIG on this GPU, or MIG mode is off.</summary>
    NotSupported,

    /// <summary>NVML_ERROR_NOT_FOUND: the instance does not exist (already destroyed).</summary>
    NotFound,

    /// <summary>NVML_ERROR_INVALID_ARGUMENT: unknown profile or a placement the profile does not allow.</summary>
    InvalidArgument,
}
