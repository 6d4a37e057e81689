using System.Buffers;
using System.Globalization;
using System.Text;

namespace SecureDra.Observability.Metrics;

/// <summary>
/// Writes the Prometheus text format as UTF-8 into an <see cref="IBufferWriter{T}"/> piece by piece, so that a scrape
/// allocates no string for the whole exposition nor one per sample line (see <see cref="MetricsRegistry.RenderTo"/>).
/// </summary>
internal sealed class ExpositionWriter(IBufferWriter<byte> output)
{
    // The longest "R" text of a double is 24 characters ("-1.7976931348623157E+308"); a long is at most 20.
    private const int NumberBytes = 32;

    public void Write(char value)
    {
        // Only ASCII punctuation is written through here ('{', '"', '\n' …).
        var span = output.GetSpan(1);
        span[0] = (byte)value;
        output.Advance(1);
    }

    public void Write(string? value) => Write(value.AsSpan());

    public void Write(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return;
        }

        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(value.Length));
        output.Advance(Encoding.UTF8.GetBytes(value, span));
    }

    /// <summary>A label value, with backslash, double quote and line feed escaped as the text format requires.</summary>
    public void WriteEscaped(ReadOnlySpan<char> value)
    {
        while (true)
        {
            var at = value.IndexOfAny('\\', '"', '\n');
            if (at < 0)
            {
                Write(value);
                return;
            }

            Write(value[..at]);
            Write(value[at] switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                _ => "\\n",
            });
            value = value[(at + 1)..];
        }
    }

    public void Write(long value)
    {
        var span = output.GetSpan(NumberBytes);
        if (!value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("a long did not fit in its buffer");
        }

        output.Advance(written);
    }

    /// <summary>A sample value: "+Inf" for positive infinity, else the round-trip ("R") text, as Prometheus clients write it.</summary>
    public void Write(double value)
    {
        if (double.IsPositiveInfinity(value))
        {
            Write("+Inf");
            return;
        }

        var span = output.GetSpan(NumberBytes);
        if (!value.TryFormat(span, out var written, "R", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("a double did not fit in its buffer");
        }

        output.Advance(written);
    }

    /// <summary>The text <see cref="Write(double)"/> writes, as a string (for values formatted once and reused).</summary>
    public static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : value.ToString("R", CultureInfo.InvariantCulture);
}
