using System.Globalization;

namespace SecureDra.TestKit;

/// <summary>
/// Which TCP ports a process listens on, read from /proc (the socket inodes in /proc/net/tcp{,6} matched against the
/// process's open descriptors). Proves that a port belongs to the child under test, not to a parallel test's
/// process that happened to take it first.
/// </summary>
public static class ListeningSockets
{
    private const string ListenState = "0A";

    /// <summary>The TCP ports <paramref name="pid"/> listens on (empty when the process is gone).</summary>
    public static IReadOnlySet<int> PortsOf(int pid)
    {
        var inodes = SocketInodes(pid);
        var ports = new HashSet<int>();
        if (inodes.Count == 0)
        {
            return ports;
        }

        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(table);
            }
            catch (IOException)
            {
                continue;
            }

            // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ..."
            foreach (var line in lines.Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[3] == ListenState && inodes.Contains(fields[9]))
                {
                    var local = fields[1];
                    ports.Add(int.Parse(local[(local.LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                }
            }
        }

        return ports;
    }

    private static HashSet<string> SocketInodes(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var fd in Directory.EnumerateFiles($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd"))
            {
                try
                {
                    // "socket:[12345]"
                    if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                    {
                        inodes.Add(target[8..^1]);
                    }
                }
                catch (IOException)
                {
                    // The descriptor closed while we looked.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process is gone.
        }

        return inodes;
    }
}
