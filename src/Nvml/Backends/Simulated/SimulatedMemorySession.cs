using System.IO.MemoryMappedFiles;

namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// The scrubber's view of a simulated GPU: the whole <c>.vram</c> file mapped read-write. Zeroing
/// and verification touch the real bytes (parallel, vectorized span operations over the mapping),
/// so a canary written by another process is really gone afterwards. Allocation is a bump pointer
/// that resets when every allocation is freed, which is all a scrub (allocate everything, free
/// everything) needs. The last <c>reserved</c> bytes model the driver's own reservation: never
/// allocated, never reported free. Faults are re-read from the fault file on every operation.
/// </summary>
public sealed unsafe class SimulatedMemorySession : IDeviceMemorySession, IDeviceMemoryFill
{
    /// <summary>Work is split into chunks this size so both cores (or all of them) share a large clear.</summary>
    public const long ParallelChunkBytes = 8L * 1024 * 1024;

    private readonly string _vramPath;
    private readonly Func<SimulatedFaults> _faults;
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _size;
    private readonly long _reserved;
    private readonly long _windowOffset;
    private readonly Func<SimulatedFaults, long?> _stuckByte;
    private long _next;
    private int _live;
    private bool _disposed;

    internal SimulatedMemorySession(string vramPath, long size, long reserved, Func<SimulatedFaults> faults)
        : this(vramPath, size, 0, size, reserved, faults, static _ => null)
    {
    }

    /// <summary>
    /// A session over the window <c>[windowOffset, windowOffset + size)</c> of a <paramref name="fileLength"/>-byte VRAM
    /// file: one MIG instance's memory slices. <paramref name="stuckByte"/> gives the file offset of a cell that does
    /// not take writes under the current faults (null: none).
    /// </summary>
    internal SimulatedMemorySession(string vramPath, long fileLength, long windowOffset, long size, long reserved, Func<SimulatedFaults> faults, Func<SimulatedFaults, long?> stuckByte)
    {
        _vramPath = vramPath;
        _size = size;
        _reserved = reserved;
        _faults = faults;
        _windowOffset = windowOffset;
        _stuckByte = stuckByte;
        var stream = new FileStream(vramPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            if (stream.Length != fileLength)
            {
                throw new GpuBackendException($"simulated VRAM file {vramPath} is {stream.Length} bytes, expected exactly {fileLength}");
            }

            _file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        _view = _file.CreateViewAccessor(windowOffset, size, MemoryMappedFileAccess.ReadWrite);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
        Populated = LinuxMemoryAdvice.TryPopulateWrite(p, size + _view.PointerOffset);
    }

    /// <summary>True when the kernel pre-faulted the whole mapping (MADV_POPULATE_WRITE).</summary>
    public bool Populated { get; }

    public string Method => "mmap-parallel-clear+readback";

    public (long FreeBytes, long TotalBytes) GetMemoryInfo()
    {
        ThrowIfGone();
        return (_size - _reserved - _next, _size);
    }

    public IDeviceAllocation? TryAllocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        ThrowIfGone();
        var faults = _faults();
        if (faults.FailAllocations)
        {
            return null;
        }

        var limit = Math.Min(_size - _reserved, faults.AllocatableFraction is { } fraction ? (long)(_size * fraction) : _size);
        if (_next + bytes > limit)
        {
            return null;
        }

        var allocation = new SimulatedAllocation(this, _next, bytes);
        _next += bytes;
        _live++;
        return allocation;
    }

    public void Zero(IDeviceAllocation allocation)
    {
        var a = Own(allocation);
        var faults = _faults();
        Delay(faults);
        Clear(_base + a.Offset, a.Bytes);
        if (faults.FailVerification)
        {
            // A stuck cell: the byte in the middle of the range does not take the write.
            _base[a.Offset + (a.Bytes / 2)] = 0xA5;
        }

        if (_stuckByte(faults) is { } stuck && stuck >= _windowOffset + a.Offset && stuck < _windowOffset + a.Offset + a.Bytes)
        {
            _base[stuck - _windowOffset] = 0xA5;
        }
    }

    /// <summary>Writes the pattern through the mapping (the canary's marker), in parallel chunks like <see cref="Clear"/>.</summary>
    public void Fill(IDeviceAllocation allocation, uint pattern)
    {
        var a = Own(allocation);
        Delay(_faults());
        var start = (nint)(_base + a.Offset);
        var bytes = a.Bytes;
        var chunks = (int)((bytes + ParallelChunkBytes - 1) / ParallelChunkBytes);
        Parallel.For(0, chunks, i =>
        {
            var offset = i * ParallelChunkBytes;
            FillRange((byte*)start + offset, Math.Min(ParallelChunkBytes, bytes - offset), pattern);
        });
    }

    public bool VerifyZero(IDeviceAllocation allocation)
    {
        var a = Own(allocation);
        Delay(_faults());
        return IsZero(_base + a.Offset, a.Bytes);
    }

    /// <summary>
    /// Nothing to wait for: stores to a shared mapping are visible to every other mapping and read() of
    /// the file at once. No msync: durability is not the point and would write the whole "VRAM" to disk.
    /// </summary>
    public void Synchronize() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Zeroes a range of the mapping with span clears (vectorized memset), in parallel chunks.</summary>
    public static void Clear(byte* start, long bytes)
    {
        var chunks = (int)((bytes + ParallelChunkBytes - 1) / ParallelChunkBytes);
        if (chunks <= 1)
        {
            ClearRange(start, bytes);
            return;
        }

        var p = (nint)start;
        Parallel.For(0, chunks, i =>
        {
            var offset = i * ParallelChunkBytes;
            ClearRange((byte*)p + offset, Math.Min(ParallelChunkBytes, bytes - offset));
        });
    }

    /// <summary>True when every byte of the range is zero (vectorized scan, in parallel chunks).</summary>
    public static bool IsZero(byte* start, long bytes)
    {
        var chunks = (int)((bytes + ParallelChunkBytes - 1) / ParallelChunkBytes);
        var p = (nint)start;
        var clean = true;
        Parallel.For(0, chunks, (i, state) =>
        {
            var offset = i * ParallelChunkBytes;
            if (!IsZeroRange((byte*)p + offset, Math.Min(ParallelChunkBytes, bytes - offset)))
            {
                clean = false;
                state.Stop();
            }
        });
        return clean;
    }

    public ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    internal void Release(SimulatedAllocation allocation)
    {
        if (--_live == 0)
        {
            _next = 0;
        }
    }

    private static void ClearRange(byte* start, long bytes)
    {
        while (bytes > 0)
        {
            var n = (int)Math.Min(bytes, int.MaxValue & ~4095);
            new Span<byte>(start, n).Clear();
            start += n;
            bytes -= n;
        }
    }

    private static void FillRange(byte* start, long bytes, uint pattern)
    {
        // Chunks start at multiples of ParallelChunkBytes from a 4096-aligned allocation: word-aligned.
        var words = bytes / sizeof(uint);
        var p = (uint*)start;
        while (words > 0)
        {
            var n = (int)Math.Min(words, int.MaxValue / sizeof(uint));
            new Span<uint>(p, n).Fill(pattern);
            p += n;
            words -= n;
        }

        var tail = (byte*)p;
        for (var i = 0L; i < bytes % sizeof(uint); i++)
        {
            tail[i] = (byte)pattern;
        }
    }

    private static bool IsZeroRange(byte* start, long bytes)
    {
        while (bytes > 0)
        {
            var n = (int)Math.Min(bytes, int.MaxValue & ~4095);
            if (new ReadOnlySpan<byte>(start, n).IndexOfAnyExcept((byte)0) >= 0)
            {
                return false;
            }

            start += n;
            bytes -= n;
        }

        return true;
    }

    private static void Delay(SimulatedFaults faults)
    {
        if (faults.MemoryDelayMs > 0)
        {
            Thread.Sleep(faults.MemoryDelayMs);
        }
    }

    private SimulatedAllocation Own(IDeviceAllocation allocation)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return allocation is SimulatedAllocation a && a.Offset + a.Bytes <= _size
            ? a
            : throw new ArgumentException("allocation does not belong to this simulated device", nameof(allocation));
    }

    private void ThrowIfGone()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!File.Exists(_vramPath))
        {
            throw new GpuBackendException($"simulated VRAM file {_vramPath} vanished: the device's memory is gone");
        }
    }
}
