using SecureDra.Nvml.Backends;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary>An NVML call returned an error: the <c>nvmlReturn_t</c> code and <c>nvmlErrorString</c>'s text.</summary>
public sealed class NvmlException : GpuBackendException
{
    public NvmlException() { }
    public NvmlException(string message) : base(message) { }
    public NvmlException(string message, Exception innerException) : base(message, innerException) { }

    public NvmlException(string function, NvmlReturn code, string errorString)
        : base($"{function} returned {(int)code} ({errorString})")
    {
        Function = function;
        Code = code;
        ErrorString = errorString;
    }

    public string Function { get; } = "";
    public NvmlReturn Code { get; }
    public string ErrorString { get; } = "";
}
