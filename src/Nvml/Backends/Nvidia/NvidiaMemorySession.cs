using SecureDra.Nvml.Native.Cuda;

namespace SecureDra.Nvml.Backends.Nvidia;

/// <summary>
/// Device memory of one GPU through the CUDA driver API: the device chosen by PCI bus id (CUDA
/// ordinals can differ from NVML indices), its primary context, a non-blocking stream, and the PTX
/// OR-reduce kernel that verifies on the device. Every call makes the context current first,
/// because CUDA's current context is per thread.
/// </summary>
public sealed class NvidiaMemorySession : IDeviceMemorySession, IDeviceMemoryFill
{
    private const int BlocksPerMultiprocessor = 8;

    private readonly CudaDriver _cuda;
    private readonly CudaPrimaryContextHandle _context;
    private readonly CudaStreamHandle _stream;
    private readonly CudaModuleHandle _module;
    private readonly CudaDeviceMemoryHandle _flag;
    private readonly nint _verifyKernel;
    private readonly uint _gridSize;
    private bool _disposed;

    private NvidiaMemorySession(CudaDriver cuda, CudaPrimaryContextHandle context, CudaStreamHandle stream, CudaModuleHandle module,
        CudaDeviceMemoryHandle flag, nint verifyKernel, uint gridSize)
    {
        _cuda = cuda;
        _context = context;
        _stream = stream;
        _module = module;
        _flag = flag;
        _verifyKernel = verifyKernel;
        _gridSize = gridSize;
    }

    public string Method => "cuMemsetD32Async+ptx-or-reduce";

    /// <summary>
    /// cuMemAlloc backs device allocations with 2 MiB pages on every GPU this driver supports (Volta and
    /// later), so less than 2 MiB of free memory cannot be handed to any context.
    /// </summary>
    public long AllocationGranularity => 2L * 1024 * 1024;

    /// <summary>Sets up CUDA on the device with this PCI bus id; the caller owns the session.</summary>
    public static NvidiaMemorySession Open(string pciBusId)
    {
        var cuda = CudaDriver.Open();
        return OpenOrdinal(cuda, cuda.GetDeviceByPciBusId(pciBusId));
    }

    /// <summary>
    /// Sets up CUDA on the device with this CUDA ordinal. Only for a process whose CUDA_VISIBLE_DEVICES names exactly one
    /// device it has checked by UUID (the MIG scrub worker); everything else picks devices by PCI bus id.
    /// </summary>
    public static NvidiaMemorySession OpenOrdinal(CudaDriver cuda, int device)
    {
        ArgumentNullException.ThrowIfNull(cuda);
        var context = cuda.RetainPrimaryContext(device);
        CudaStreamHandle? stream = null;
        CudaModuleHandle? module = null;
        try
        {
            cuda.SetCurrent(context);
            stream = cuda.CreateStream();
            module = cuda.LoadModule(VerifyZeroKernel.Ptx);
            var kernel = cuda.GetFunction(module, VerifyZeroKernel.EntryName);
            var sms = cuda.GetAttribute(CudaDeviceAttribute.MultiprocessorCount, device);
            var grid = (uint)Math.Clamp(sms * BlocksPerMultiprocessor, 1, 65535);
            var flag = cuda.TryAllocate(sizeof(uint)) ?? throw new CudaException("cuMemAlloc_v2", CudaResult.OutOfMemory,
                CudaDriver.GetErrorName(CudaResult.OutOfMemory), CudaDriver.GetErrorString(CudaResult.OutOfMemory));
            return new NvidiaMemorySession(cuda, context, stream, module, flag, kernel, grid);
        }
        catch
        {
            module?.Dispose();
            stream?.Dispose();
            context.Dispose();
            throw;
        }
    }

    public CudaDriver Driver => _cuda;

    /// <summary>The session's stream, for callers (tests, benchmarks) that queue their own work.</summary>
    public CudaStreamHandle Stream => _stream;

    /// <summary>The device address of an allocation made by a CUDA session.</summary>
    public static ulong DevicePointerOf(IDeviceAllocation allocation) => Own(allocation).DevicePointer;

    public (long FreeBytes, long TotalBytes) GetMemoryInfo()
    {
        MakeCurrent();
        return _cuda.GetMemoryInfo();
    }

    public IDeviceAllocation? TryAllocate(long bytes)
    {
        MakeCurrent();
        var memory = _cuda.TryAllocate(bytes);
        return memory is null ? null : new NvidiaAllocation(this, memory);
    }

    public void Zero(IDeviceAllocation allocation)
    {
        var memory = Own(allocation);
        MakeCurrent();
        var words = memory.Bytes / sizeof(uint);
        _cuda.MemsetD32Async(memory.DevicePointer, 0, words, _stream);
        var tail = memory.Bytes % sizeof(uint);
        if (tail != 0)
        {
            _cuda.MemsetD8Async(memory.DevicePointer + (ulong)(words * sizeof(uint)), 0, tail, _stream);
        }
    }

    public void Fill(IDeviceAllocation allocation, uint pattern)
    {
        var memory = Own(allocation);
        MakeCurrent();
        var words = memory.Bytes / sizeof(uint);
        _cuda.MemsetD32Async(memory.DevicePointer, pattern, words, _stream);
        var tail = memory.Bytes % sizeof(uint);
        if (tail != 0)
        {
            _cuda.MemsetD8Async(memory.DevicePointer + (ulong)(words * sizeof(uint)), (byte)pattern, tail, _stream);
        }
    }

    public bool VerifyZero(IDeviceAllocation allocation)
    {
        var memory = Own(allocation);
        MakeCurrent();
        var words = memory.Bytes / sizeof(uint);
        _cuda.MemsetD32Async(_flag.DevicePointer, 0, 1, _stream);
        _cuda.LaunchVerifyZero(_verifyKernel, memory.DevicePointer, words, _flag.DevicePointer, _gridSize, _stream);
        _cuda.Synchronize(_stream);
        Span<byte> flag = stackalloc byte[sizeof(uint)];
        _cuda.CopyToHost(flag, _flag.DevicePointer);
        if (BitConverter.ToUInt32(flag) != 0)
        {
            return false;
        }

        var tail = (int)(memory.Bytes % sizeof(uint));
        if (tail == 0)
        {
            return true;
        }

        Span<byte> rest = stackalloc byte[tail];
        _cuda.CopyToHost(rest, memory.DevicePointer + (ulong)(words * sizeof(uint)));
        return rest.IndexOfAnyExcept((byte)0) < 0;
    }

    public void Synchronize()
    {
        MakeCurrent();
        _cuda.Synchronize(_stream);
    }

    public ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            try
            {
                MakeCurrent();
            }
            catch (CudaException)
            {
                // The handles below still release; their calls fail harmlessly if the context is gone.
            }

            _flag.Dispose();
            _module.Dispose();
            _stream.Dispose();
            _context.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    internal void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _cuda.SetCurrent(_context);
    }

    private static CudaDeviceMemoryHandle Own(IDeviceAllocation allocation) =>
        allocation is NvidiaAllocation a ? a.Memory : throw new ArgumentException("allocation does not belong to a CUDA session", nameof(allocation));
}
