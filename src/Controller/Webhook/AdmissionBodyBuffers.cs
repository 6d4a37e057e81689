using System.Buffers;

namespace SecureDra.Controller.Webhook;

/// <summary>
/// The webhook's own body buffers. Small bodies borrow from the shared pool; a body over 64 KiB is read into one
/// buffer of exactly <c>MaxBodyBytes + 1</c> bytes, and at most <see cref="RetainedLimit"/> of those are kept for reuse.
/// </summary>
/// <remarks>
/// Why not <see cref="ArrayPool{T}.Shared"/> for large bodies: it keeps arrays per size per core plus one per thread, so
/// a stream of 2.5 MiB reviews grown by doubling left ~95 MiB of 1–4 MiB arrays live in the large-object heap, and the
/// churn of fresh ones grew the committed heap past the chart's 256 Mi limit (issue 15). Here the retained memory is at
/// most <see cref="RetainedLimit"/> × (MaxBodyBytes + 1), whatever the traffic; concurrent large reviews beyond that
/// allocate a buffer that becomes garbage when they end.
/// </remarks>
public sealed class AdmissionBodyBuffers(AdmissionWebhookOptions options)
{
    /// <summary>Large buffers kept between requests: enough for the API server's sequential calls without churn.</summary>
    public const int RetainedLimit = 2;

    /// <summary>Bodies up to this size use the shared pool: its small arrays are not in the large-object heap.</summary>
    public const int SmallBodyBytes = 64 * 1024;

    private readonly Lock _gate = new();
    private readonly Stack<byte[]> _retained = new(RetainedLimit);

    /// <summary>Length of a large buffer: one byte past the limit so an oversized body is detected.</summary>
    public int LargeBufferBytes => options.MaxBodyBytes + 1;

    /// <summary>Bytes held between requests; never more than <see cref="RetainedLimit"/> × <see cref="LargeBufferBytes"/>.</summary>
    public long RetainedBytes
    {
        get
        {
            lock (_gate)
            {
                return (long)_retained.Count * LargeBufferBytes;
            }
        }
    }

    /// <summary>A buffer for a body of <paramref name="contentLength"/> bytes (null: unknown, e.g. chunked).</summary>
    public byte[] Rent(long? contentLength)
    {
        if (contentLength is { } known && known < SmallBodyBytes)
        {
            return ArrayPool<byte>.Shared.Rent((int)known + 1);
        }

        lock (_gate)
        {
            if (_retained.TryPop(out var reused))
            {
                return reused;
            }
        }

        return new byte[LargeBufferBytes];
    }

    /// <summary>Takes back a buffer from <see cref="Rent"/>; the caller must not touch it afterwards.</summary>
    public void Return(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length != LargeBufferBytes)
        {
            if (buffer.Length <= SmallBodyBytes + 1)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return;
        }

        lock (_gate)
        {
            if (_retained.Count < RetainedLimit)
            {
                _retained.Push(buffer);
            }
        }
    }
}
