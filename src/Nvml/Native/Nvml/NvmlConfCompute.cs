namespace SecureDra.Nvml.Native.Nvml;

/// <summary>
/// Confidential-computing queries (system-wide). <c>…Raw</c> returns NVML's code as is; a driver older than a function
/// (Debian's 535 lacks nvmlSystemGetConfComputeSettings) surfaces as <see cref="NativeLibraryUnavailableException"/>
/// naming the entry point, which the NVIDIA backend treats as "not reported".
/// </summary>
public static unsafe class NvmlConfCompute
{
    public static NvmlReturn GetStateRaw(out NvmlConfComputeSystemState state)
    {
        NvmlConfComputeSystemState local = default;
        var p = &local;
        var r = NvmlLibrary.Guard(() => NvmlNative.SystemGetConfComputeState(p), "nvmlSystemGetConfComputeState");
        state = local;
        return r;
    }

    public static NvmlReturn GetSettingsRaw(out NvmlSystemConfComputeSettings settings)
    {
        var local = new NvmlSystemConfComputeSettings { Version = NvmlSystemConfComputeSettings.StructVersion };
        var p = &local;
        var r = NvmlLibrary.Guard(() => NvmlNative.SystemGetConfComputeSettings(p), "nvmlSystemGetConfComputeSettings");
        settings = local;
        return r;
    }

    public static NvmlReturn GetGpusReadyStateRaw(out uint isAcceptingWork)
    {
        uint local = 0;
        var p = &local;
        var r = NvmlLibrary.Guard(() => NvmlNative.SystemGetConfComputeGpusReadyState(p), "nvmlSystemGetConfComputeGpusReadyState");
        isAcceptingWork = local;
        return r;
    }
}
