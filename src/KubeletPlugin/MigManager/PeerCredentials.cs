using System.Buffers.Binary;
using System.Net.Sockets;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// The process at the other end of a connected Unix socket, as the kernel recorded it at connect (SO_PEERCRED,
/// socket(7)/unix(7)): it cannot be forged by the peer, unlike anything it sends. Read through the managed raw
/// socket-option API, so no native import is needed.
/// </summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    // SOL_SOCKET and SO_PEERCRED on Linux (x86-64 and arm64 share the asm-generic values).
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>struct ucred { pid_t pid; uid_t uid; gid_t gid; }: three 32-bit fields.</summary>
    private const int UcredSize = 12;

    /// <summary>The peer's credentials; null where the socket is not a connected Unix socket or the option is unavailable.</summary>
    public static PeerCredentials? Of(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (!OperatingSystem.IsLinux() || socket.AddressFamily != AddressFamily.Unix)
        {
            return null;
        }

        Span<byte> buffer = stackalloc byte[UcredSize];
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, buffer) != UcredSize)
            {
                return null;
            }
        }
        catch (SocketException)
        {
            return null;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }

        return new PeerCredentials(
            BinaryPrimitives.ReadInt32LittleEndian(buffer),
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[8..]));
    }
}
