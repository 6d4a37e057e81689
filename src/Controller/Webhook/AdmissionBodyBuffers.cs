using System.Buffers;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Webhook;

/// <summary>
/// The webhook's own body buffers. The first 64 KiB of a body borrow from the shared pool; past that a body moves into a
/// buffer of exactly <c>MaxBodyBytes + 1</c> bytes, of which at most <see cref="RetainedLimit"/> are kept for reuse.
/// </summary>
/// <remarks>
/// Why not <see cref="ArrayPool{T}.Shared"/> for large bodies: it keeps arrays per size per core plus one per thread, so
/// a stream of 2.5 MiB reviews grown by doubling left ~95 MiB of 1–4 MiB arrays live in the large-object heap, and the
/// churn of fresh ones grew the committed heap past the chart's 256 Mi limit (issue 15). Here the retained memory is at
/// most <see cref="RetainedLimit"/> × (MaxBodyBytes + 1), whatever the traffic; concurrent large reviews beyond that
/// allocate a buffer that becomes garbage when they end. The retained bytes are exported as
/// <see cref="RetainedBytesMetric"/> so an operator sees that memory in the controller's /metrics.
/// </remarks>
public sealed class AdmissionBodyBuffers
{
    /// <summary>Gauge of the bytes held between requests; never more than <see cref="RetainedLimit"/> × <see cref="LargeBufferBytes"/>.</summary>
    public const string RetainedBytesMetric = "securedra_webhook_body_buffer_retained_bytes";

    /// <summary>Large buffers kept between requests: enough for the API server's sequential calls without churn.</summary>
    public const int RetainedLimit = 2;

    /// <summary>Bodies up to this size use the shared pool: its small arrays are not in the large-object heap.</summary>
    public const int SmallBodyBytes = 64 * 1024;

    private readonly AdmissionWebhookOptions _options;
    private readonly Gauge _retainedBytes;
    private readonly Lock _gate = new();
    private readonly Stack<byte[]> _retained = new(RetainedLimit);

    public AdmissionBodyBuffers(AdmissionWebhookOptions options, MetricsRegistry metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        _options = options;
        _retainedBytes = metrics.Gauge(
            RetainedBytesMetric,
            "Bytes the admission webhook keeps in large body buffers between requests (at most two buffers of the body limit plus one byte).");
        _retainedBytes.Set(0);
    }

    /// <summary>Length of a large buffer: one byte past the limit so an oversized body is detected.</summary>
    public int LargeBufferBytes => _options.MaxBodyBytes + 1;

    /// <summary>
    /// The first buffer for a body: never more than 64 KiB before any byte arrived, so a declared Content-Length alone
    /// makes the webhook hold nothing large (a flood of headers-only requests claiming 3 MiB costs 64 KiB each).
    /// </summary>
    public byte[] RentInitial(long? contentLength)
    {
        var size = (int)Math.Min(Math.Min(contentLength ?? long.MaxValue, _options.MaxBodyBytes) + 1, SmallBodyBytes);
        return ArrayPool<byte>.Shared.Rent(size);
    }

    /// <summary>
    /// A larger buffer holding the first <paramref name="used"/> bytes of <paramref name="current"/>, which is taken back.
    /// Past 64 KiB it is a retained full-size buffer when one is free (a sequential stream of large reviews allocates
    /// nothing), else a fresh one of double the size: a request holds at most twice what it has sent.
    /// </summary>
    public byte[] Grow(byte[] current, int used)
    {
        ArgumentNullException.ThrowIfNull(current);
        var wanted = (int)Math.Min(current.Length * 2L, LargeBufferBytes);
        byte[]? bigger = null;
        if (wanted > SmallBodyBytes)
        {
            lock (_gate)
            {
                if (_retained.TryPop(out bigger))
                {
                    PublishRetained();
                }
            }
        }

        bigger ??= wanted <= SmallBodyBytes ? ArrayPool<byte>.Shared.Rent(wanted) : new byte[wanted];
        current.AsSpan(0, used).CopyTo(bigger);
        Return(current);
        return bigger;
    }

    /// <summary>Takes back a buffer from <see cref="RentInitial"/> or <see cref="Grow"/>; the caller must not touch it afterwards.</summary>
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
                PublishRetained();
            }
        }
    }

    /// <summary>Called under the gate, so the gauge never shows a count another thread has already changed.</summary>
    private void PublishRetained() => _retainedBytes.Set((double)_retained.Count * LargeBufferBytes);
}
