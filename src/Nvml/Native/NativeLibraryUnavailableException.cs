using SecureDra.Nvml.Backends;

namespace SecureDra.Nvml.Native;

/// <summary>
/// A native library (or one of its entry points) could not be loaded: the driver's user-space
/// libraries are not installed, or are too old. Raised instead of a raw DllNotFoundException so a
/// node without NVIDIA software gets one clear line, never a crash.
/// </summary>
public sealed class NativeLibraryUnavailableException : GpuBackendException
{
    public NativeLibraryUnavailableException() { }
    public NativeLibraryUnavailableException(string message) : base(message) { }
    public NativeLibraryUnavailableException(string message, Exception innerException) : base(message, innerException) { }

    public NativeLibraryUnavailableException(string libraryName, string? entryPoint, Exception innerException)
        : base(entryPoint is null
            ? $"native library {libraryName} could not be loaded: {innerException.Message}"
            : $"native library {libraryName} has no entry point {entryPoint} (driver too old?): {innerException.Message}", innerException)
    {
        LibraryName = libraryName;
        EntryPoint = entryPoint;
    }

    public string LibraryName { get; } = "";
    public string? EntryPoint { get; }
}
