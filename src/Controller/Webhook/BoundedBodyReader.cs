using System.Runtime.CompilerServices;

namespace SecureDra.Controller.Webhook;

/// <summary>Reads at most <c>limit + 1</c> bytes so an oversized body is detected without buffering it.</summary>
internal static class BoundedBodyReader
{
    /// <summary>
    /// The buffer holding the body and its length, or a length of -1 when the body is longer than <paramref name="limit"/>.
    /// The caller gives the returned buffer back to <paramref name="buffers"/> (also when this throws: see <paramref name="buffer"/>).
    /// </summary>
    /// <param name="buffer">In: from <see cref="AdmissionBodyBuffers.RentInitial"/>. Out: the buffer now in use, to return.</param>
    public static async Task<int> ReadAsync(Stream body, AdmissionBodyBuffers buffers, StrongBox<byte[]> buffer, int limit, CancellationToken cancellationToken)
    {
        var length = 0;
        while (true)
        {
            var capacity = Math.Min(buffer.Value!.Length, limit + 1);
            if (length == capacity)
            {
                if (capacity > limit)
                {
                    return -1;
                }

                buffer.Value = buffers.Grow(buffer.Value, length);
                continue;
            }

            var read = await body.ReadAsync(buffer.Value.AsMemory(length, capacity - length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return length;
            }

            length += read;
            if (length > limit)
            {
                return -1;
            }
        }
    }
}
