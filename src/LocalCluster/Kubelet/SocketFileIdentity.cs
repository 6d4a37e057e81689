using System.Runtime.InteropServices;

namespace SecureDra.LocalCluster.Kubelet;

/// <summary>
/// Which file a registration socket path names right now (device and inode, as stat(2) reports them). A plugin that
/// restarts re-creates its socket at the same path; the identity tells the old file's late "deleted" event apart
/// from the new file, which the path alone cannot.
/// </summary>
internal readonly partial record struct SocketFileIdentity(ulong Device, ulong Inode)
{
    /// <summary>The identity of the file at <paramref name="path"/>, or null when there is none.</summary>
    public static SocketFileIdentity? Of(string path)
    {
        // st_dev and st_ino are the first two 64-bit fields of struct stat on x86_64 and on aarch64 (the generic
        // layout); the rest of the buffer is room for the fields we do not read.
        return Stat(path, out var buffer) == 0 ? new SocketFileIdentity(buffer.Device, buffer.Inode) : null;
    }

    [StructLayout(LayoutKind.Sequential, Size = 256)]
    private struct StatBuffer
    {
        public ulong Device;
        public ulong Inode;
    }

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, out StatBuffer buffer);
}
