namespace SecureDra.Api.Validation;

/// <summary>What <see cref="BoundedInput.ReadAtMostAsync"/> read: the bytes, or the fact that there were too many.</summary>
public sealed record BoundedReadResult(byte[] Buffer, int Length, bool ExceedsLimit)
{
    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

    /// <summary>Bytes taken from the stream: never more than the limit + 1.</summary>
    public int BytesRead => Length;
}

/// <summary>
/// Reads untrusted input with a hard cap: at most <c>maxBytes + 1</c> bytes are ever taken from
/// the stream, which is just enough to tell "at the limit" from "over it" without trusting a
/// Content-Length or a file size.
/// </summary>
public static class BoundedInput
{
    public static async Task<BoundedReadResult> ReadAtMostAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        var buffer = new byte[maxBytes + 1];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        return length > maxBytes
            ? new BoundedReadResult(buffer, length, ExceedsLimit: true)
            : new BoundedReadResult(buffer, length, ExceedsLimit: false);
    }
}
