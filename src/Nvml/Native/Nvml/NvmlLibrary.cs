using System.Runtime.InteropServices;
using System.Text;

namespace SecureDra.Nvml.Native.Nvml;

/// <summary>
/// Typed access to libnvidia-ml.so.1: every non-success return becomes an <see cref="NvmlException"/>
/// carrying the code and nvmlErrorString's text; a missing library or entry point becomes a
/// <see cref="NativeLibraryUnavailableException"/>. <see cref="Initialize"/> pairs with
/// <see cref="Dispose"/> (nvmlInit_v2 / nvmlShutdown are reference-counted by NVML).
/// </summary>
public sealed unsafe class NvmlLibrary : IDisposable
{
    private bool _initialized;

    public static string LibraryName => NvmlNative.LibraryName;

    /// <summary>Loads the library and calls nvmlInit_v2. Throws the typed error on failure.</summary>
    public static NvmlLibrary Open()
    {
        NativeLibraryProbe.EnsureLoadable(NvmlNative.LibraryName);
        var library = new NvmlLibrary();
        library.Initialize();
        return library;
    }

    public void Initialize()
    {
        Call("nvmlInit_v2", static () => NvmlNative.Init());
        _initialized = true;
    }

    public void Dispose()
    {
        if (_initialized)
        {
            _initialized = false;
            _ = NvmlNative.Shutdown();
        }
    }

    /// <summary>nvmlShutdown's raw result (it succeeds even after a failed init).</summary>
    public static NvmlReturn ShutdownRaw() => Guard(static () => NvmlNative.Shutdown(), "nvmlShutdown");

    /// <summary>nvmlInit_v2's raw result, for tests and diagnostics.</summary>
    public static NvmlReturn InitRaw() => Guard(static () => NvmlNative.Init(), "nvmlInit_v2");

    public static string ErrorString(NvmlReturn code)
    {
        var p = Guard(() => (nint)NvmlNative.ErrorString(code), "nvmlErrorString");
        return p == 0 ? $"nvml error {(int)code}" : Marshal.PtrToStringUTF8(p) ?? "";
    }

    public static void Check(NvmlReturn result, string function)
    {
        if (result != NvmlReturn.Success)
        {
            throw new NvmlException(function, result, ErrorString(result));
        }
    }

    public string GetDriverVersion()
    {
        var buffer = stackalloc byte[NvmlStrings.DriverVersionBufferSize];
        var p = buffer;
        Call("nvmlSystemGetDriverVersion", () => NvmlNative.SystemGetDriverVersion(p, NvmlStrings.DriverVersionBufferSize));
        return NvmlStrings.FromBuffer(new ReadOnlySpan<byte>(buffer, NvmlStrings.DriverVersionBufferSize));
    }

    /// <summary>The CUDA version the driver supports, encoded as 1000 * major + 10 * minor (12020 = 12.2).</summary>
    public int GetCudaDriverVersion()
    {
        int version;
        var p = &version;
        Call("nvmlSystemGetCudaDriverVersion_v2", () => NvmlNative.SystemGetCudaDriverVersion(p));
        return version;
    }

    public int GetDeviceCount()
    {
        uint count;
        var p = &count;
        Call("nvmlDeviceGetCount_v2", () => NvmlNative.DeviceGetCount(p));
        return checked((int)count);
    }

    /// <summary>nvmlDeviceGetCount_v2's raw result (UNINITIALIZED before a successful init).</summary>
    public static NvmlReturn GetDeviceCountRaw(out uint count)
    {
        uint c = 0;
        var p = &c;
        var r = Guard(() => NvmlNative.DeviceGetCount(p), "nvmlDeviceGetCount_v2");
        count = c;
        return r;
    }

    public NvmlDeviceHandle GetHandleByIndex(int index)
    {
        nint device;
        var p = &device;
        var i = checked((uint)index);
        Call("nvmlDeviceGetHandleByIndex_v2", () => NvmlNative.DeviceGetHandleByIndex(i, p));
        return new NvmlDeviceHandle(device);
    }

    public NvmlDeviceHandle GetHandleByUuid(string uuid)
    {
        var bytes = NulTerminated(uuid);
        nint device;
        var p = &device;
        fixed (byte* u = bytes)
        {
            var up = u;
            Call("nvmlDeviceGetHandleByUUID", () => NvmlNative.DeviceGetHandleByUuid(up, p));
        }

        return new NvmlDeviceHandle(device);
    }

    public string GetName(NvmlDeviceHandle device)
    {
        var buffer = stackalloc byte[NvmlStrings.DeviceNameBufferSize];
        var p = buffer;
        Call("nvmlDeviceGetName", () => NvmlNative.DeviceGetName(device.Value, p, NvmlStrings.DeviceNameBufferSize));
        return NvmlStrings.FromBuffer(new ReadOnlySpan<byte>(buffer, NvmlStrings.DeviceNameBufferSize));
    }

    public string GetUuid(NvmlDeviceHandle device)
    {
        var buffer = stackalloc byte[NvmlStrings.DeviceUuidBufferSize];
        var p = buffer;
        Call("nvmlDeviceGetUUID", () => NvmlNative.DeviceGetUuid(device.Value, p, NvmlStrings.DeviceUuidBufferSize));
        return NvmlStrings.FromBuffer(new ReadOnlySpan<byte>(buffer, NvmlStrings.DeviceUuidBufferSize));
    }

    public int GetMinorNumber(NvmlDeviceHandle device)
    {
        uint minor;
        var p = &minor;
        Call("nvmlDeviceGetMinorNumber", () => NvmlNative.DeviceGetMinorNumber(device.Value, p));
        return checked((int)minor);
    }

    public NvmlPciInfo GetPciInfo(NvmlDeviceHandle device)
    {
        NvmlPciInfo info;
        var p = &info;
        Call("nvmlDeviceGetPciInfo_v3", () => NvmlNative.DeviceGetPciInfo(device.Value, p));
        return info;
    }

    /// <summary>Memory via nvmlDeviceGetMemoryInfo_v2 where the driver has it, else the v1 call.</summary>
    public (ulong Total, ulong Free, ulong Used) GetMemoryInfo(NvmlDeviceHandle device)
    {
        var v2 = new NvmlMemoryV2 { Version = NvmlMemoryV2.StructVersion };
        var p2 = &v2;
        NvmlReturn r;
        try
        {
            r = NvmlNative.DeviceGetMemoryInfoV2(device.Value, p2);
        }
        catch (EntryPointNotFoundException)
        {
            r = NvmlReturn.FunctionNotFound;
        }

        if (r == NvmlReturn.Success)
        {
            return (v2.Total, v2.Free, v2.Used);
        }

        if (r is not (NvmlReturn.FunctionNotFound or NvmlReturn.NotSupported or NvmlReturn.ArgumentVersionMismatch))
        {
            Check(r, "nvmlDeviceGetMemoryInfo_v2");
        }

        NvmlMemory v1;
        var p1 = &v1;
        Call("nvmlDeviceGetMemoryInfo", () => NvmlNative.DeviceGetMemoryInfo(device.Value, p1));
        return (v1.Total, v1.Free, v1.Used);
    }

    public (int Major, int Minor) GetCudaComputeCapability(NvmlDeviceHandle device)
    {
        int major, minor;
        var pa = &major;
        var pi = &minor;
        Call("nvmlDeviceGetCudaComputeCapability", () => NvmlNative.DeviceGetCudaComputeCapability(device.Value, pa, pi));
        return (major, minor);
    }

    public uint GetArchitecture(NvmlDeviceHandle device)
    {
        uint arch;
        var p = &arch;
        Call("nvmlDeviceGetArchitecture", () => NvmlNative.DeviceGetArchitecture(device.Value, p));
        return arch;
    }

    public int GetBrand(NvmlDeviceHandle device)
    {
        int brand;
        var p = &brand;
        Call("nvmlDeviceGetBrand", () => NvmlNative.DeviceGetBrand(device.Value, p));
        return brand;
    }

    /// <summary>MIG mode enabled now or pending (enabled at the next reset), or null when the device does not support MIG.</summary>
    public bool? GetMigEnabled(NvmlDeviceHandle device)
    {
        uint current, pending;
        var pc = &current;
        var pp = &pending;
        var r = Guard(() => NvmlNative.DeviceGetMigMode(device.Value, pc, pp), "nvmlDeviceGetMigMode");
        if (r == NvmlReturn.NotSupported)
        {
            return null;
        }

        Check(r, "nvmlDeviceGetMigMode");
        return current == 1 || pending == 1;
    }

    /// <summary>
    /// nvmlDeviceGetComputeRunningProcesses_v3. The process count can grow between the sizing call and the
    /// fetch, so INSUFFICIENT_SIZE is retried with the larger count NVML reports (bounded attempts).
    /// </summary>
    public IReadOnlyList<NvmlProcessInfo> GetComputeRunningProcesses(NvmlDeviceHandle device)
    {
        uint capacity = 16;
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var infos = new NvmlProcessInfo[capacity];
            var count = capacity;
            NvmlReturn r;
            fixed (NvmlProcessInfo* p = infos)
            {
                var pp = p;
                var pc = &count;
                r = Guard(() => NvmlNative.DeviceGetComputeRunningProcesses(device.Value, pc, pp), "nvmlDeviceGetComputeRunningProcesses_v3");
            }

            if (r == NvmlReturn.Success)
            {
                return infos.AsSpan(0, (int)Math.Min(count, capacity)).ToArray();
            }

            if (r != NvmlReturn.InsufficientSize)
            {
                Check(r, "nvmlDeviceGetComputeRunningProcesses_v3");
            }

            // NVML wrote the count it needs; leave headroom for processes that start meanwhile.
            capacity = Math.Max(count + 8, capacity * 2);
        }

        throw new NvmlException("nvmlDeviceGetComputeRunningProcesses_v3", NvmlReturn.InsufficientSize, ErrorString(NvmlReturn.InsufficientSize));
    }

    public NvmlEventSetHandle CreateEventSet()
    {
        nint set;
        var p = &set;
        Call("nvmlEventSetCreate", () => NvmlNative.EventSetCreate(p));
        return new NvmlEventSetHandle(set);
    }

    public ulong GetSupportedEventTypes(NvmlDeviceHandle device)
    {
        ulong types;
        var p = &types;
        Call("nvmlDeviceGetSupportedEventTypes", () => NvmlNative.DeviceGetSupportedEventTypes(device.Value, p));
        return types;
    }

    public void RegisterEvents(NvmlDeviceHandle device, ulong eventTypes, NvmlEventSetHandle set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var added = false;
        try
        {
            set.DangerousAddRef(ref added);
            var s = set.DangerousGetHandle();
            Call("nvmlDeviceRegisterEvents", () => NvmlNative.DeviceRegisterEvents(device.Value, eventTypes, s));
        }
        finally
        {
            if (added)
            {
                set.DangerousRelease();
            }
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for an event; null on timeout.</summary>
    public NvmlEventData? WaitForEvent(NvmlEventSetHandle set, uint timeoutMs)
    {
        ArgumentNullException.ThrowIfNull(set);
        var added = false;
        try
        {
            set.DangerousAddRef(ref added);
            NvmlEventData data;
            var p = &data;
            var s = set.DangerousGetHandle();
            var r = Guard(() => NvmlNative.EventSetWait(s, p, timeoutMs), "nvmlEventSetWait_v2");
            if (r == NvmlReturn.Timeout)
            {
                return null;
            }

            Check(r, "nvmlEventSetWait_v2");
            return data;
        }
        finally
        {
            if (added)
            {
                set.DangerousRelease();
            }
        }
    }

    internal static byte[] NulTerminated(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    internal static T Guard<T>(Func<T> call, string function) => NativeCall.Run(NvmlNative.LibraryName, function, call);

    /// <summary>One native call whose result must be success: the function's name, once, for both the guard and the error.</summary>
    private static void Call(string function, Func<NvmlReturn> call) => Check(Guard(call, function), function);
}
