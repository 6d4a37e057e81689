using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// madvise(MADV_POPULATE_WRITE) for a fresh mapping: the kernel faults every page in writable in one
/// call instead of one page fault per 4 KiB on first touch, which otherwise dominates a scrub of a
/// mapped file. Best effort: older kernels (before 5.14) answer EINVAL and the pages fault in lazily.
/// </summary>
internal static unsafe partial class LinuxMemoryAdvice
{
    private const int MadvPopulateWrite = 23;

    public static bool TryPopulateWrite(byte* start, long bytes)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return Madvise(start, (nuint)bytes, MadvPopulateWrite) == 0;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(void* address, nuint length, int advice);
}
