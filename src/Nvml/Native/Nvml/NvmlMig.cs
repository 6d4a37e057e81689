namespace SecureDra.Nvml.Native.Nvml;

/// <summary>
/// Typed MIG calls. Each <c>…Raw</c> method returns NVML's code as is (binding tests assert them on a machine without a
/// driver); the typed ones throw <see cref="NvmlException"/> naming the function, and a missing library or entry point
/// becomes <see cref="NativeLibraryUnavailableException"/>. Callers hold an initialized <see cref="NvmlLibrary"/>.
/// </summary>
public static unsafe class NvmlMig
{
    /// <summary>NVML_GPU_INSTANCE_PROFILE_COUNT: profile indices 0 … 0x11 of nvml.h.</summary>
    public const uint GpuInstanceProfileIndexCount = 0x12;

    /// <summary>NVML_COMPUTE_INSTANCE_PROFILE_COUNT.</summary>
    public const uint ComputeInstanceProfileIndexCount = 0x9;

    /// <summary>NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED.</summary>
    public const uint EngineProfileShared = 0;

    /// <summary>Bound on instances listed per call: more than the 8 memory slices (or 7 compute slices) any GPU has.</summary>
    public const int MaxListed = 64;

    /// <summary>nvmlDeviceGetMigMode: NVML_DEVICE_MIG_ENABLE (1) / DISABLE (0), now and pending.</summary>
    public static NvmlReturn GetMigModeRaw(NvmlDeviceHandle device, out uint current, out uint pending)
    {
        uint c = 0, p = 0;
        var pc = &c;
        var pp = &p;
        var r = NvmlLibrary.Guard(() => NvmlNative.DeviceGetMigMode(device.Value, pc, pp), "nvmlDeviceGetMigMode");
        current = c;
        pending = p;
        return r;
    }

    public static NvmlReturn GetGpuInstanceProfileInfoRaw(NvmlDeviceHandle device, uint profileIndex, out NvmlGpuInstanceProfileInfoV2 info)
    {
        var local = new NvmlGpuInstanceProfileInfoV2 { Version = NvmlGpuInstanceProfileInfoV2.StructVersion };
        var p = &local;
        var r = NvmlLibrary.Guard(() => NvmlNative.DeviceGetGpuInstanceProfileInfoV(device.Value, profileIndex, p), "nvmlDeviceGetGpuInstanceProfileInfoV");
        info = local;
        return r;
    }

    /// <summary>The profile at NVML_GPU_INSTANCE_PROFILE_* index <paramref name="profileIndex"/>, or null where the GPU does not offer it.</summary>
    public static NvmlGpuInstanceProfileInfoV2? GetGpuInstanceProfileInfo(NvmlDeviceHandle device, uint profileIndex)
    {
        var r = GetGpuInstanceProfileInfoRaw(device, profileIndex, out var info);
        if (r is NvmlReturn.NotSupported or NvmlReturn.InvalidArgument or NvmlReturn.NotFound)
        {
            return null;
        }

        NvmlLibrary.Check(r, "nvmlDeviceGetGpuInstanceProfileInfoV");
        return info;
    }

    public static NvmlReturn GetGpuInstancePossiblePlacementsRaw(NvmlDeviceHandle device, uint profileId, Span<NvmlGpuInstancePlacement> placements, out uint count)
    {
        uint c = (uint)placements.Length;
        var pc = &c;
        NvmlReturn r;
        fixed (NvmlGpuInstancePlacement* p = placements)
        {
            var pp = placements.IsEmpty ? null : p;
            r = NvmlLibrary.Guard(() => NvmlNative.DeviceGetGpuInstancePossiblePlacements(device.Value, profileId, pp, pc), "nvmlDeviceGetGpuInstancePossiblePlacements_v2");
        }

        count = c;
        return r;
    }

    public static NvmlGpuInstancePlacement[] GetGpuInstancePossiblePlacements(NvmlDeviceHandle device, uint profileId)
    {
        var buffer = new NvmlGpuInstancePlacement[MaxListed];
        NvmlLibrary.Check(GetGpuInstancePossiblePlacementsRaw(device, profileId, buffer, out var count), "nvmlDeviceGetGpuInstancePossiblePlacements_v2");
        return buffer.AsSpan(0, (int)Math.Min(count, (uint)buffer.Length)).ToArray();
    }

    public static NvmlReturn CreateGpuInstanceWithPlacementRaw(NvmlDeviceHandle device, uint profileId, NvmlGpuInstancePlacement placement, out NvmlGpuInstanceHandle gpuInstance)
    {
        nint handle = 0;
        var ph = &handle;
        var pp = &placement;
        var r = NvmlLibrary.Guard(() => NvmlNative.DeviceCreateGpuInstanceWithPlacement(device.Value, profileId, pp, ph), "nvmlDeviceCreateGpuInstanceWithPlacement");
        gpuInstance = new NvmlGpuInstanceHandle(handle);
        return r;
    }

    public static NvmlReturn GpuInstanceDestroyRaw(NvmlGpuInstanceHandle gpuInstance) =>
        NvmlLibrary.Guard(() => NvmlNative.GpuInstanceDestroy(gpuInstance.Value), "nvmlGpuInstanceDestroy");

    public static NvmlReturn GetGpuInstancesRaw(NvmlDeviceHandle device, uint profileId, Span<NvmlGpuInstanceHandle> instances, out uint count)
    {
        uint c = (uint)instances.Length;
        var pc = &c;
        NvmlReturn r;
        fixed (NvmlGpuInstanceHandle* p = instances)
        {
            var pp = (nint*)p;
            r = NvmlLibrary.Guard(() => NvmlNative.DeviceGetGpuInstances(device.Value, profileId, pp, pc), "nvmlDeviceGetGpuInstances");
        }

        count = c;
        return r;
    }

    public static NvmlGpuInstanceHandle[] GetGpuInstances(NvmlDeviceHandle device, uint profileId)
    {
        var buffer = new NvmlGpuInstanceHandle[MaxListed];
        NvmlLibrary.Check(GetGpuInstancesRaw(device, profileId, buffer, out var count), "nvmlDeviceGetGpuInstances");
        return buffer.AsSpan(0, (int)Math.Min(count, (uint)buffer.Length)).ToArray();
    }

    public static NvmlReturn GetGpuInstanceByIdRaw(NvmlDeviceHandle device, uint id, out NvmlGpuInstanceHandle gpuInstance)
    {
        nint handle = 0;
        var ph = &handle;
        var r = NvmlLibrary.Guard(() => NvmlNative.DeviceGetGpuInstanceById(device.Value, id, ph), "nvmlDeviceGetGpuInstanceById");
        gpuInstance = new NvmlGpuInstanceHandle(handle);
        return r;
    }

    public static NvmlReturn GpuInstanceGetInfoRaw(NvmlGpuInstanceHandle gpuInstance, out NvmlGpuInstanceInfo info)
    {
        NvmlGpuInstanceInfo local = default;
        var p = &local;
        var r = NvmlLibrary.Guard(() => NvmlNative.GpuInstanceGetInfo(gpuInstance.Value, p), "nvmlGpuInstanceGetInfo");
        info = local;
        return r;
    }

    public static NvmlReturn GetComputeInstanceProfileInfoRaw(NvmlGpuInstanceHandle gpuInstance, uint profileIndex, out NvmlComputeInstanceProfileInfoV2 info)
    {
        var local = new NvmlComputeInstanceProfileInfoV2 { Version = NvmlComputeInstanceProfileInfoV2.StructVersion };
        var p = &local;
        var r = NvmlLibrary.Guard(() => NvmlNative.GpuInstanceGetComputeInstanceProfileInfoV(gpuInstance.Value, profileIndex, EngineProfileShared, p), "nvmlGpuInstanceGetComputeInstanceProfileInfoV");
        info = local;
        return r;
    }

    public static NvmlReturn CreateComputeInstanceRaw(NvmlGpuInstanceHandle gpuInstance, uint profileId, out NvmlComputeInstanceHandle computeInstance)
    {
        nint handle = 0;
        var ph = &handle;
        var r = NvmlLibrary.Guard(() => NvmlNative.GpuInstanceCreateComputeInstance(gpuInstance.Value, profileId, ph), "nvmlGpuInstanceCreateComputeInstance");
        computeInstance = new NvmlComputeInstanceHandle(handle);
        return r;
    }

    public static NvmlReturn GetComputeInstancesRaw(NvmlGpuInstanceHandle gpuInstance, uint profileId, Span<NvmlComputeInstanceHandle> instances, out uint count)
    {
        uint c = (uint)instances.Length;
        var pc = &c;
        NvmlReturn r;
        fixed (NvmlComputeInstanceHandle* p = instances)
        {
            var pp = (nint*)p;
            r = NvmlLibrary.Guard(() => NvmlNative.GpuInstanceGetComputeInstances(gpuInstance.Value, profileId, pp, pc), "nvmlGpuInstanceGetComputeInstances");
        }

        count = c;
        return r;
    }

    public static NvmlReturn ComputeInstanceGetInfoRaw(NvmlComputeInstanceHandle computeInstance, out NvmlComputeInstanceInfo info)
    {
        NvmlComputeInstanceInfo local = default;
        var p = &local;
        var r = NvmlLibrary.Guard(() => NvmlNative.ComputeInstanceGetInfo(computeInstance.Value, p), "nvmlComputeInstanceGetInfo_v2");
        info = local;
        return r;
    }

    public static NvmlReturn ComputeInstanceDestroyRaw(NvmlComputeInstanceHandle computeInstance) =>
        NvmlLibrary.Guard(() => NvmlNative.ComputeInstanceDestroy(computeInstance.Value), "nvmlComputeInstanceDestroy");

    public static NvmlReturn GetMaxMigDeviceCountRaw(NvmlDeviceHandle device, out uint count)
    {
        uint c = 0;
        var p = &c;
        var r = NvmlLibrary.Guard(() => NvmlNative.DeviceGetMaxMigDeviceCount(device.Value, p), "nvmlDeviceGetMaxMigDeviceCount");
        count = c;
        return r;
    }

    public static NvmlReturn GetMigDeviceHandleByIndexRaw(NvmlDeviceHandle device, uint index, out NvmlDeviceHandle migDevice)
    {
        nint handle = 0;
        var p = &handle;
        var r = NvmlLibrary.Guard(() => NvmlNative.DeviceGetMigDeviceHandleByIndex(device.Value, index, p), "nvmlDeviceGetMigDeviceHandleByIndex");
        migDevice = new NvmlDeviceHandle(handle);
        return r;
    }

    public static NvmlReturn GetGpuInstanceIdRaw(NvmlDeviceHandle migDevice, out uint id)
    {
        uint c = 0;
        var p = &c;
        var r = NvmlLibrary.Guard(() => NvmlNative.DeviceGetGpuInstanceId(migDevice.Value, p), "nvmlDeviceGetGpuInstanceId");
        id = c;
        return r;
    }

    public static NvmlReturn GetComputeInstanceIdRaw(NvmlDeviceHandle migDevice, out uint id)
    {
        uint c = 0;
        var p = &c;
        var r = NvmlLibrary.Guard(() => NvmlNative.DeviceGetComputeInstanceId(migDevice.Value, p), "nvmlDeviceGetComputeInstanceId");
        id = c;
        return r;
    }

    /// <summary>nvmlDeviceGetUUID on a MIG device handle: the "MIG-…" UUID that CUDA_VISIBLE_DEVICES selects.</summary>
    public static NvmlReturn GetUuidRaw(NvmlDeviceHandle device, out string uuid)
    {
        var buffer = stackalloc byte[NvmlStrings.DeviceUuidBufferSize];
        var p = buffer;
        var r = NvmlLibrary.Guard(() => NvmlNative.DeviceGetUuid(device.Value, p, NvmlStrings.DeviceUuidBufferSize), "nvmlDeviceGetUUID");
        uuid = r == NvmlReturn.Success ? NvmlStrings.FromBuffer(new ReadOnlySpan<byte>(buffer, NvmlStrings.DeviceUuidBufferSize)) : "";
        return r;
    }

    public static string GetUuid(NvmlDeviceHandle device)
    {
        NvmlLibrary.Check(GetUuidRaw(device, out var uuid), "nvmlDeviceGetUUID");
        return uuid;
    }
}
