using SecureDra.Nvml.Backends;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>A scrub ran past its deadline; the scrubber turns it into a failed report.</summary>
public sealed class DeadlineExceededException : GpuBackendException
{
    public DeadlineExceededException() { }
    public DeadlineExceededException(string message) : base(message) { }
    public DeadlineExceededException(string message, Exception innerException) : base(message, innerException) { }
}
