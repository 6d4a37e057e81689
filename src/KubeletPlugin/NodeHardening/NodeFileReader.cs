using SecureDra.KubeletPlugin.State;

namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>
/// Reads a node file for the hardening checks: read-only, at most <see cref="NodeHardeningOptions.MaxFileBytes"/>,
/// never blocking. The file is opened with O_NONBLOCK so a FIFO planted where a config file should be
/// reads as empty instead of hanging the check, and a character device (/dev/zero) stops at the size
/// limit. Never throws for a file problem: the outcome names it.
/// </summary>
public static class NodeFileReader
{
    /// <summary>The first read buffer: node config and version files are a few KiB.</summary>
    public const int InitialBufferBytes = 16 * 1024;

    public static NodeFileContent Read(string path, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            if (Directory.Exists(path))
            {
                return NodeFileContent.Failed(path, "is a directory, not a file");
            }

            if (!File.Exists(path))
            {
                return NodeFileContent.Missing(path);
            }

            using var handle = PosixFileSystem.OpenReadNonBlocking(path);
            using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            // The buffer grows with what the file holds, up to the limit + 1, instead of being the limit + 1 from the start:
            // the toolkit's version file is a few bytes against a 16 MiB limit, and an up-front buffer of the limit was a
            // large-object allocation at every check, most of the plugin's GC heap (docs/performance.md §10.2).
            var limit = checked((int)Math.Min(maxBytes + 1, int.MaxValue));
            var buffer = new byte[Math.Min(limit, InitialBufferBytes)];
            var total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (buffer.Length == limit)
                    {
                        break;
                    }

                    Array.Resize(ref buffer, (int)Math.Min(2L * buffer.Length, limit));
                }

                var n = stream.Read(buffer, total, buffer.Length - total);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            return total > maxBytes
                ? NodeFileContent.Failed(path, $"is larger than the limit of {maxBytes} bytes")
                : NodeFileContent.Read(path, buffer.AsSpan(0, total).ToArray());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return NodeFileContent.Failed(path, $"cannot be read ({ex.GetType().Name}: {ex.Message})");
        }
    }
}

/// <summary>What reading one node file gave: its bytes, or that it is missing, or why it could not be read.</summary>
public sealed record NodeFileContent(string Path, bool Exists, byte[]? Bytes, string? Error)
{
    public static NodeFileContent Missing(string path) => new(path, false, null, null);

    public static NodeFileContent Failed(string path, string error) => new(path, true, null, error);

    public static NodeFileContent Read(string path, byte[] bytes) => new(path, true, bytes, null);
}
