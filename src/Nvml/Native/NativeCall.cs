namespace SecureDra.Nvml.Native;

/// <summary>
/// The one guard around a call into libnvidia-ml or libcuda: a library that will not load, or lacks the entry point
/// (an older driver), becomes <see cref="NativeLibraryUnavailableException"/> naming both, so the plugin reports a
/// node that is not set up instead of crashing. NvmlLibrary and CudaDriver wrap it with their own result check.
/// </summary>
internal static class NativeCall
{
    public static T Run<T>(string library, string function, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (DllNotFoundException e)
        {
            throw new NativeLibraryUnavailableException(library, null, e);
        }
        catch (EntryPointNotFoundException e)
        {
            throw new NativeLibraryUnavailableException(library, function, e);
        }
    }
}
