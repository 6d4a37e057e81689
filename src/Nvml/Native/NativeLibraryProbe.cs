using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Native;

/// <summary>
/// Checks that a native library can be loaded before any binding touches it, so the failure is a
/// typed error naming the library rather than a DllNotFoundException from deep inside a call.
/// </summary>
public static class NativeLibraryProbe
{
    public static void EnsureLoadable(string libraryName)
    {
        if (!NativeLibrary.TryLoad(libraryName, out var handle))
        {
            throw new NativeLibraryUnavailableException(libraryName, null,
                new DllNotFoundException($"dlopen(\"{libraryName}\") failed; is the NVIDIA driver's user-space library installed?"));
        }

        // The loader keeps its own reference for the LibraryImport stubs; this probe's reference is not needed.
        NativeLibrary.Free(handle);
    }
}
