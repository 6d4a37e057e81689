namespace SecureDra.Nvml.Backends;

/// <summary>A backend-level failure with a message meant for an operator.</summary>
public class GpuBackendException : Exception
{
    public GpuBackendException() { }
    public GpuBackendException(string message) : base(message) { }
    public GpuBackendException(string message, Exception innerException) : base(message, innerException) { }
}
