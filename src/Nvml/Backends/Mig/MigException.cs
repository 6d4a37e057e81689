using SecureDra.Nvml.Native.Nvml;

namespace SecureDra.Nvml.Backends.Mig;

/// <summary>A MIG operation failed; <see cref="Code"/> says how (see <see cref="MigErrorCode"/>), the message names the device, instance and NVML's answer.</summary>
public sealed class MigException : GpuBackendException
{
    public MigException() { }
    public MigException(string message) : base(message) { }
    public MigException(string message, Exception innerException) : base(message, innerException) { }

    public MigException(MigErrorCode code, string message)
        : base(message)
    {
        Code = code;
    }

    public MigException(MigErrorCode code, string message, Exception innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    public MigErrorCode Code { get; }

    /// <summary>NVML's return code → <see cref="MigErrorCode"/>.</summary>
    public static MigErrorCode Map(NvmlReturn code) => code switch
    {
        NvmlReturn.InsufficientResources => MigErrorCode.InsufficientResources,
        NvmlReturn.InUse => MigErrorCode.InUse,
        NvmlReturn.NoPermission => MigErrorCode.NoPermission,
        NvmlReturn.NotSupported => MigErrorCode.NotSupported,
        NvmlReturn.NotFound => MigErrorCode.NotFound,
        NvmlReturn.InvalidArgument => MigErrorCode.InvalidArgument,
        _ => MigErrorCode.Other,
    };
}
