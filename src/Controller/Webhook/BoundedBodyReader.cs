using System.Buffers;

namespace SecureDra.Controller.Webhook;

/// <summary>Reads at most <c>limit + 1</c> bytes so an oversized body is detected without buffering it.</summary>
internal static class BoundedBodyReader
{
    /// <summary>The body, or null when it is longer than <paramref name="limit"/>. The caller returns the rented buffer.</summary>
    public static async Task<(byte[]? Buffer, int Length)> ReadAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, 64 * 1024));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (buffer.Length > limit)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return (null, length);
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, buffer.Length * 2));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var read = await body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit + 1) - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, length);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
