using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace SecureDra.KubeletPlugin.State;

/// <summary>
/// Reads and writes the checkpoint file. Layout: one ASCII header line, then the JSON payload:
/// <code>SECUREDRA-CHECKPOINT 1 sha256=&lt;64 hex&gt; bytes=&lt;payload length&gt;\n{...payload...}</code>
/// The SHA-256 covers the exact payload bytes on disk and is checked before anything is parsed,
/// so adding a field or changing serializer settings can never invalidate an existing file
/// (unlike re-marshal-and-compare, NVIDIA's issue #1080). Reads are bounded by
/// <c>maxBytes</c>; writes are atomic (temp file, fsync, rename, fsync dir).
/// </summary>
public sealed class CheckpointFile(string directory, string fileName, int maxBytes)
{
    private const string Magic = "SECUREDRA-CHECKPOINT";
    private const int HeaderVersion = 1;
    private const int MaxHeaderBytes = 160;

    public string Path { get; } = System.IO.Path.Combine(directory, fileName);

    /// <summary>Null when no checkpoint exists; throws <see cref="CheckpointCorruptException"/> for anything else that is wrong.</summary>
    public async Task<CheckpointData?> ReadAsync(CancellationToken cancellationToken)
    {
        byte[] content;
        try
        {
            var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
            await using (stream.ConfigureAwait(false))
            {
                content = await ReadBoundedAsync(stream, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (IOException ex)
        {
            throw CheckpointCorruptException.For(Path, "it cannot be read: " + ex.Message, ex);
        }

        return Parse(content);
    }

    public Task WriteAsync(CheckpointData data, CancellationToken cancellationToken) => WriteRawAsync(Serialize(data), cancellationToken);

    /// <summary>Writes bytes produced by <see cref="Serialize"/>.</summary>
    public async Task WriteRawAsync(byte[] content, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        await AtomicFile.WriteAsync(directory, fileName, content, AtomicFile.OwnerOnly, cancellationToken).ConfigureAwait(false);
    }

    public static byte[] Serialize(CheckpointData data)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(data, CheckpointJsonContext.Default.CheckpointData);
        var header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{Magic} {HeaderVersion} sha256={Convert.ToHexStringLower(SHA256.HashData(payload))} bytes={payload.Length}\n"));
        return [.. header, .. payload];
    }

    public CheckpointData Parse(ReadOnlySpan<byte> content)
    {
        var newline = content[..Math.Min(content.Length, MaxHeaderBytes)].IndexOf((byte)'\n');
        if (newline < 0)
        {
            throw CheckpointCorruptException.For(Path, "it has no header line");
        }

        var header = Encoding.ASCII.GetString(content[..newline]).Split(' ');
        if (header.Length != 4 || header[0] != Magic || !header[2].StartsWith("sha256=", StringComparison.Ordinal) || !header[3].StartsWith("bytes=", StringComparison.Ordinal))
        {
            throw CheckpointCorruptException.For(Path, "its header line is malformed");
        }

        if (!int.TryParse(header[1], NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version != HeaderVersion)
        {
            throw CheckpointCorruptException.For(Path, $"its header version {header[1]} is not supported (this build reads {HeaderVersion}); was it written by a newer SecureDra?");
        }

        var payload = content[(newline + 1)..];
        if (!int.TryParse(header[3].AsSpan("bytes=".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length != payload.Length)
        {
            throw CheckpointCorruptException.For(Path, $"its payload is {payload.Length} bytes but the header says {header[3]["bytes=".Length..]} (truncated or appended)");
        }

        var expected = header[2]["sha256=".Length..];
        var actual = Convert.ToHexStringLower(SHA256.HashData(payload));
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
        {
            throw CheckpointCorruptException.For(Path, $"its SHA-256 is {actual} but the header says {expected}");
        }

        CheckpointData? data;
        try
        {
            data = JsonSerializer.Deserialize(payload, CheckpointJsonContext.Default.CheckpointData);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw CheckpointCorruptException.For(Path, "its payload is not valid checkpoint JSON: " + ex.Message, ex);
        }

        if (data is null)
        {
            throw CheckpointCorruptException.For(Path, "its payload is null");
        }

        if (data.Format > CheckpointData.CurrentFormat)
        {
            throw CheckpointCorruptException.For(Path, $"its payload format {data.Format} is newer than this build understands ({CheckpointData.CurrentFormat})");
        }

        if (CheckpointShape.Problem(data) is { } problem)
        {
            throw CheckpointCorruptException.For(Path, problem);
        }

        try
        {
            // Whatever was read must be writable again (a lone surrogate in a kept unknown field is not),
            // or the first commit after start-up would fail with an error that names nothing.
            _ = Serialize(data);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw CheckpointCorruptException.For(Path, "its payload cannot be written back: " + ex.Message, ex);
        }

        return data;
    }

    private async Task<byte[]> ReadBoundedAsync(FileStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(maxBytes + 1, Math.Max(4096, (int)Math.Min(stream.Length + 1, maxBytes + 1L)))];
        var total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (buffer.Length > maxBytes)
                {
                    throw CheckpointCorruptException.For(Path, $"it is larger than the limit of {maxBytes} bytes");
                }

                Array.Resize(ref buffer, Math.Min(maxBytes + 1, buffer.Length * 2));
            }

            var read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer[..total];
            }

            total += read;
        }
    }
}
