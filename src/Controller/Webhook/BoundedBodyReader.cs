namespace SecureDra.Controller.Webhook;

/// <summary>Reads at most <c>limit + 1</c> bytes so an oversized body is detected without buffering it.</summary>
internal static class BoundedBodyReader
{
    /// <summary>
    /// The body's length in <paramref name="buffer"/>, or -1 when it is longer than <paramref name="limit"/> or than
    /// the buffer (sized from a Content-Length the body then overran).
    /// </summary>
    public static async Task<int> ReadAsync(Stream body, byte[] buffer, int limit, CancellationToken cancellationToken)
    {
        var capacity = Math.Min(buffer.Length, limit + 1);
        var length = 0;
        while (true)
        {
            if (length == capacity)
            {
                return -1;
            }

            var read = await body.ReadAsync(buffer.AsMemory(length, capacity - length), cancellationToken).ConfigureAwait(false);
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
