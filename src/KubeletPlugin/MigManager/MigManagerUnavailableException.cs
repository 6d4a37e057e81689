using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>The MIG manager did not answer (socket missing, refused, deadline, malformed answer): nothing was done, or nothing can be known to have been.</summary>
public sealed class MigManagerUnavailableException : GpuBackendException
{
    public MigManagerUnavailableException() { }

    public MigManagerUnavailableException(string message) : base(message) { }

    public MigManagerUnavailableException(string message, Exception innerException) : base(message, innerException) { }
}
