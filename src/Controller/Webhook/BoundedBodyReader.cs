namespace SecureDra.Controller.Webhook;

/// <summary>Reads at most <c>MaxBodyBytes + 1</c> bytes so an oversized body is detected without buffering it.</summary>
internal static class BoundedBodyReader
{
    /// <summary>
    /// The body in a buffer from <paramref name="buffers"/>, which the caller gives back; or null when the body is longer
    /// than the buffers' limit. The buffer is already given back then, and when this throws.
    /// </summary>
    /// <param name="contentLength">The declared length, if any: it only sizes the first (small) buffer.</param>
    public static async Task<(byte[]? Buffer, int Length)> ReadAsync(Stream body, long? contentLength, AdmissionBodyBuffers buffers, CancellationToken cancellationToken)
    {
        // The limit comes from the buffers, not from a parameter: a limit past their full size would grow forever.
        var limit = buffers.LargeBufferBytes - 1;
        var buffer = buffers.RentInitial(contentLength);
        var length = 0;
        try
        {
            while (true)
            {
                var capacity = Math.Min(buffer.Length, limit + 1);
                if (length == capacity)
                {
                    if (capacity > limit)
                    {
                        buffers.Return(buffer);
                        return (null, -1);
                    }

                    buffer = buffers.Grow(buffer, length);
                    continue;
                }

                var read = await body.ReadAsync(buffer.AsMemory(length, capacity - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
                if (length > limit)
                {
                    buffers.Return(buffer);
                    return (null, -1);
                }
            }
        }
        catch
        {
            buffers.Return(buffer);
            throw;
        }
    }
}
