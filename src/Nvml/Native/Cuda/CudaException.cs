using SecureDra.Nvml.Backends;

namespace SecureDra.Nvml.Native.Cuda;

/// <summary>A CUDA driver-API call failed: the <c>CUresult</c> with cuGetErrorName / cuGetErrorString text.</summary>
public sealed class CudaException : GpuBackendException
{
    public CudaException() { }
    public CudaException(string message) : base(message) { }
    public CudaException(string message, Exception innerException) : base(message, innerException) { }

    public CudaException(string function, CudaResult code, string errorName, string errorString)
        : base($"{function} returned {(int)code} {errorName} ({errorString})")
    {
        Function = function;
        Code = code;
        ErrorName = errorName;
        ErrorString = errorString;
    }

    public string Function { get; } = "";
    public CudaResult Code { get; }
    public string ErrorName { get; } = "";
    public string ErrorString { get; } = "";
}
