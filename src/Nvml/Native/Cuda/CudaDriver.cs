using System.Runtime.InteropServices;
using System.Text;

namespace SecureDra.Nvml.Native.Cuda;

/// <summary>
/// Typed access to the CUDA driver API: every non-success <c>CUresult</c> becomes a
/// <see cref="CudaException"/> with cuGetErrorName / cuGetErrorString text; a missing library or
/// entry point becomes a <see cref="NativeLibraryUnavailableException"/>. Stateless: contexts,
/// modules, streams and allocations are SafeHandles the caller owns.
/// </summary>
public sealed unsafe class CudaDriver
{
    public const uint StreamNonBlocking = 0x1; // CU_STREAM_NON_BLOCKING

    public static string LibraryName => CudaNative.LibraryName;

    /// <summary>Loads libcuda.so.1 and calls cuInit(0).</summary>
    public static CudaDriver Open()
    {
        NativeLibraryProbe.EnsureLoadable(CudaNative.LibraryName);
        var driver = new CudaDriver();
        Check(InitRaw(), "cuInit");
        return driver;
    }

    public static CudaResult InitRaw() => Guard(static () => CudaNative.Init(0), "cuInit");

    /// <summary>The CUDA version the driver implements (1000 * major + 10 * minor); needs no cuInit.</summary>
    public static int GetDriverVersion()
    {
        int version;
        var p = &version;
        Call("cuDriverGetVersion", () => CudaNative.DriverGetVersion(p));
        return version;
    }

    public static string GetErrorName(CudaResult code)
    {
        byte* text = null;
        var pp = &text;
        var r = Guard(() => CudaNative.GetErrorName(code, pp), "cuGetErrorName");
        return r == CudaResult.Success && text != null ? Marshal.PtrToStringUTF8((nint)text) ?? "" : $"CUDA_ERROR_{(int)code}";
    }

    public static string GetErrorString(CudaResult code)
    {
        byte* text = null;
        var pp = &text;
        var r = Guard(() => CudaNative.GetErrorString(code, pp), "cuGetErrorString");
        return r == CudaResult.Success && text != null ? Marshal.PtrToStringUTF8((nint)text) ?? "" : "unrecognized error code";
    }

    public static void Check(CudaResult result, string function)
    {
        if (result != CudaResult.Success)
        {
            throw new CudaException(function, result, GetErrorName(result), GetErrorString(result));
        }
    }

    public int GetDeviceCount()
    {
        int count;
        var p = &count;
        Call("cuDeviceGetCount", () => CudaNative.DeviceGetCount(p));
        return count;
    }

    /// <summary>The CUDA device for a PCI bus id as NVML reports it; CUDA ordinals can differ from NVML indices.</summary>
    public int GetDeviceByPciBusId(string pciBusId)
    {
        var bytes = new byte[Encoding.ASCII.GetByteCount(pciBusId) + 1];
        Encoding.ASCII.GetBytes(pciBusId, bytes);
        int device;
        var pd = &device;
        fixed (byte* b = bytes)
        {
            var bp = b;
            Call("cuDeviceGetByPCIBusId", () => CudaNative.DeviceGetByPciBusId(pd, bp));
        }

        return device;
    }

    public int GetAttribute(CudaDeviceAttribute attribute, int device)
    {
        int value;
        var p = &value;
        Call("cuDeviceGetAttribute", () => CudaNative.DeviceGetAttribute(p, (int)attribute, device));
        return value;
    }

    public CudaPrimaryContextHandle RetainPrimaryContext(int device)
    {
        nint context;
        var p = &context;
        Call("cuDevicePrimaryCtxRetain", () => CudaNative.DevicePrimaryCtxRetain(p, device));
        return new CudaPrimaryContextHandle(context, device);
    }

    /// <summary>Makes the context current on the calling thread (CUDA's current context is per thread).</summary>
    public void SetCurrent(CudaPrimaryContextHandle context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var c = context.DangerousGetHandle();
        Call("cuCtxSetCurrent", () => CudaNative.CtxSetCurrent(c));
    }

    public (long Free, long Total) GetMemoryInfo()
    {
        nuint free, total;
        var pf = &free;
        var pt = &total;
        Call("cuMemGetInfo_v2", () => CudaNative.MemGetInfo(pf, pt));
        return ((long)free, (long)total);
    }

    /// <summary>cuMemAlloc_v2; null on CUDA_ERROR_OUT_OF_MEMORY (the caller halves and retries), typed error otherwise.</summary>
    public CudaDeviceMemoryHandle? TryAllocate(long bytes)
    {
        ulong pointer;
        var p = &pointer;
        var size = checked((nuint)bytes);
        var r = Guard(() => CudaNative.MemAlloc(p, size), "cuMemAlloc_v2");
        if (r == CudaResult.OutOfMemory)
        {
            return null;
        }

        Check(r, "cuMemAlloc_v2");
        return new CudaDeviceMemoryHandle(pointer, bytes);
    }

    public void MemsetD32Async(ulong devicePointer, uint value, long words, CudaStreamHandle stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var s = stream.DangerousGetHandle();
        Call("cuMemsetD32Async", () => CudaNative.MemsetD32Async(devicePointer, value, checked((nuint)words), s));
    }

    public void MemsetD8Async(ulong devicePointer, byte value, long bytes, CudaStreamHandle stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var s = stream.DangerousGetHandle();
        Call("cuMemsetD8Async", () => CudaNative.MemsetD8Async(devicePointer, value, checked((nuint)bytes), s));
    }

    public void CopyToHost(Span<byte> destination, ulong devicePointer)
    {
        fixed (byte* d = destination)
        {
            var dp = d;
            var n = (nuint)destination.Length;
            Call("cuMemcpyDtoH_v2", () => CudaNative.MemcpyDtoH(dp, devicePointer, n));
        }
    }

    public void CopyToDevice(ulong devicePointer, ReadOnlySpan<byte> source)
    {
        fixed (byte* s = source)
        {
            var sp = s;
            var n = (nuint)source.Length;
            Call("cuMemcpyHtoD_v2", () => CudaNative.MemcpyHtoD(devicePointer, sp, n));
        }
    }

    public CudaStreamHandle CreateStream(uint flags = StreamNonBlocking)
    {
        nint stream;
        var p = &stream;
        Call("cuStreamCreate", () => CudaNative.StreamCreate(p, flags));
        return new CudaStreamHandle(stream);
    }

    public void Synchronize(CudaStreamHandle stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var s = stream.DangerousGetHandle();
        Call("cuStreamSynchronize", () => CudaNative.StreamSynchronize(s));
    }

    /// <summary>Loads a PTX (or cubin) image; the driver JIT-compiles PTX for the current device.</summary>
    public CudaModuleHandle LoadModule(string ptx)
    {
        var image = new byte[Encoding.ASCII.GetByteCount(ptx) + 1];
        Encoding.ASCII.GetBytes(ptx, image);
        nint module;
        var pm = &module;
        fixed (byte* i = image)
        {
            var ip = i;
            Call("cuModuleLoadData", () => CudaNative.ModuleLoadData(pm, ip));
        }

        return new CudaModuleHandle(module);
    }

    /// <summary>A kernel of a loaded module; valid while the module is loaded.</summary>
    public nint GetFunction(CudaModuleHandle module, string name)
    {
        ArgumentNullException.ThrowIfNull(module);
        var bytes = new byte[Encoding.ASCII.GetByteCount(name) + 1];
        Encoding.ASCII.GetBytes(name, bytes);
        nint function;
        var pf = &function;
        var m = module.DangerousGetHandle();
        fixed (byte* n = bytes)
        {
            var np = n;
            Call("cuModuleGetFunction", () => CudaNative.ModuleGetFunction(pf, m, np));
        }

        return function;
    }

    /// <summary>Launches the OR-reduce verification kernel over <paramref name="words"/> 32-bit words.</summary>
    public void LaunchVerifyZero(nint function, ulong buffer, long words, ulong flag, uint gridSize, CudaStreamHandle stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var w = (ulong)words;
        var b = buffer;
        var f = flag;
        var args = stackalloc void*[3];
        args[0] = &b;
        args[1] = &w;
        args[2] = &f;
        var s = stream.DangerousGetHandle();
        var pa = args;
        Call("cuLaunchKernel", () => CudaNative.LaunchKernel(function, gridSize, 1, 1, VerifyZeroKernel.ThreadsPerBlock, 1, 1, 0, s, pa, null));
    }

    internal static T Guard<T>(Func<T> call, string function) => NativeCall.Run(CudaNative.LibraryName, function, call);

    /// <summary>One native call whose result must be success: the function's name, once, for both the guard and the error.</summary>
    private static void Call(string function, Func<CudaResult> call) => Check(Guard(call, function), function);
}
