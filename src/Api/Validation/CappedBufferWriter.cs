using System.Buffers;

namespace SecureDra.Api.Validation;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> that keeps at most <c>capacity</c> bytes and then only counts:
/// serializing attacker-sized parameters never grows a buffer past the limit being enforced.
/// </summary>
internal sealed class CappedBufferWriter(int capacity) : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(capacity);
    private byte[]? _scratch;
    private bool _handedOutScratch;
    private int _written;

    public bool Overflowed { get; private set; }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!Overflowed && _written + count <= capacity)
        {
            if (_handedOutScratch)
            {
                // The writer asked for more room than was left, but what it wrote still fits.
                _scratch.AsSpan(0, count).CopyTo(_buffer.AsSpan(_written));
            }

            _written += count;
        }
        else
        {
            Overflowed = true;
        }

        _handedOutScratch = false;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => GetArraySegment(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => GetArraySegment(sizeHint);

    private ArraySegment<byte> GetArraySegment(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (!Overflowed && _written + sizeHint <= capacity)
        {
            _handedOutScratch = false;
            return new ArraySegment<byte>(_buffer, _written, capacity - _written);
        }

        // Past the cap the bytes are thrown away; the scratch only has to be big enough for one write.
        if (_scratch is null || _scratch.Length < sizeHint)
        {
            _scratch = new byte[Math.Max(sizeHint, 256)];
        }

        _handedOutScratch = !Overflowed;
        return new ArraySegment<byte>(_scratch);
    }
}
