using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SecureDra.KubeletPlugin.State;

/// <summary>
/// The POSIX calls .NET lacks: fsync of a directory, so a rename is durable (a no-op off Linux: the plugin only
/// runs on Linux nodes), and a read-only open with O_NONBLOCK, so a FIFO planted where a file should be cannot
/// block its reader. The one binding of open(2) in the plugin.
/// </summary>
internal static partial class PosixFileSystem
{
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000; // Linux x86-64 and arm64
    private const int OCloexec = 0x80000;
    private const int ONoctty = 0x100;
    private const int ONonblock = 0x800;

    /// <summary>Opens <paramref name="path"/> read-only and non-blocking (off Linux: a plain read-only open).</summary>
    public static SafeFileHandle OpenReadNonBlocking(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        }

        var fd = Open(path, ORdOnly | ONonblock | OCloexec | ONoctty);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw errno == 13 ? new UnauthorizedAccessException($"permission denied (errno {errno})") : new IOException($"open failed (errno {errno})");
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    public static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = Open(directory, ORdOnly | ODirectory | OCloexec);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to fsync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
