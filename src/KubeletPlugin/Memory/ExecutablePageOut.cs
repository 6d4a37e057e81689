using System.Globalization;
using System.Runtime.InteropServices;

namespace SecureDra.KubeletPlugin.Memory;

/// <summary>
/// Asks the kernel to reclaim the clean pages of this process's own executable file and shared libraries (madvise
/// MADV_PAGEOUT on their read-only and executable mappings). Native AOT puts all of <c>securedra</c> (every subcommand, 23 MB) in one file;
/// start-up touches code and read-only data spread over most of it (host, DI, Kestrel, flag parsing, option
/// validation) and the kernel maps up to 16 pages around each fault, so ~20 MiB of the file stay resident although
/// the steady calls use a fraction (docs/performance.md §10.3). The pages are clean copies of the file: reclaiming
/// them loses nothing, and a page still in use faults back in from the file on its next use.
/// <para>
/// This frees memory rather than moving a number: a page is reclaimed only when no other process maps it (the kernel
/// skips shared pages), and a reclaimed page leaves the page cache, and with it the container's memory charge. The
/// kernel reclaims file pages of a file the caller could not write only if the caller owns it: the plugin runs as
/// uid 0 and the image's <c>/securedra</c> is owned by 0 (Dockerfile), so in the product it applies; elsewhere it
/// may reclaim nothing, which the result reports.
/// </para>
/// </summary>
public static partial class ExecutablePageOut
{
    private const int MadvRandom = 1; // include/uapi/asm-generic/mman-common.h
    private const int MadvPageout = 21; // same header, Linux 5.4+

    /// <summary>Pages out this process's executable (<c>/proc/self/exe</c>); Linux only (elsewhere: <see cref="PlatformNotSupportedException"/>).</summary>
    public static PageOutResult Run()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("MADV_PAGEOUT is Linux-only");
        }

        var executable = File.ResolveLinkTarget("/proc/self/exe", returnFinalTarget: true)?.FullName
            ?? throw new IOException("/proc/self/exe does not resolve");
        // Its shared libraries too (libcrypto, libssl, libc, libm): in the image nothing else maps them, and start-up
        // touches most of them while the steady calls keep ~2 of their ~6 resident MiB (docs/performance.md §10.3). Where
        // another process maps a library page (a host's libc), the kernel keeps it.
        return Run(executable, path => path == executable || IsSharedLibrary(path));
    }

    /// <summary>Pages out this process's non-writable mappings of <paramref name="file"/> (tests map a file of their own).</summary>
    public static PageOutResult Run(string file) => Run(file, path => path == file);

    /// <summary>
    /// Pages out this process's non-writable mappings whose path <paramref name="matches"/>. Throws
    /// <see cref="IOException"/> when the kernel refused every range (before Linux 5.4: no MADV_PAGEOUT), so that the
    /// caller logs and counts it.
    /// </summary>
    private static PageOutResult Run(string file, Func<string, bool> matches)
    {
        var before = ProcessMappings.Read("/proc/self/smaps").Where(m => Target(m, matches)).ToArray();
        var failures = 0;
        var lastErrno = 0;
        foreach (var mapping in before)
        {
            // MADV_RANDOM first: a read-only data page that faults back in is then read alone, without the 64 KiB
            // read-around window the kernel otherwise reads and maps with it (read-only data came back at 1.2-2.5 of
            // 10 MiB with it, 3.9-4.5 without). Linux 6.18 still reads executable mappings in 64 KiB blocks whatever
            // the advice (docs/performance.md §10.3). Advice only; a kernel that refuses it still pages out.
            _ = Madvise((nint)mapping.Start, (nuint)(mapping.End - mapping.Start), MadvRandom);
            if (Madvise((nint)mapping.Start, (nuint)(mapping.End - mapping.Start), MadvPageout) != 0)
            {
                failures++;
                lastErrno = Marshal.GetLastPInvokeError();
            }
        }

        if (before.Length > 0 && failures == before.Length)
        {
            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"madvise(MADV_PAGEOUT) failed on all {failures} mappings of {file} (errno {lastErrno})"));
        }

        var after = ProcessMappings.Read("/proc/self/smaps").Where(m => Target(m, matches)).ToArray();
        return new PageOutResult(file, before.Length, before.Sum(m => m.ResidentBytes), after.Sum(m => m.ResidentBytes));
    }

    /// <summary>
    /// The executable's own file mappings that hold only clean pages: code and read-only data. Its writable mapping
    /// (.data, relocated pointers) is private and dirty: paging it out would need swap, so it is left alone.
    /// </summary>
    private static bool Target(ProcessMapping m, Func<string, bool> matches) =>
        m.Path.Length > 0 && m.Permissions.Length >= 2 && m.Permissions[1] != 'w' && matches(m.Path);

    /// <summary>A shared object by its file name (<c>libcrypto.so.3</c>, <c>ld-linux-x86-64.so.2</c>), not a device or data file.</summary>
    private static bool IsSharedLibrary(string path)
    {
        var name = Path.GetFileName(path);
        return path.StartsWith('/') && (name.EndsWith(".so", StringComparison.Ordinal) || name.Contains(".so.", StringComparison.Ordinal));
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);
}

/// <summary>What <see cref="ExecutablePageOut.Run"/> did: how many mappings, and their resident bytes before and after.</summary>
public sealed record PageOutResult(string Executable, int Mappings, long ResidentBefore, long ResidentAfter);
