namespace SecureDra.KubeletPlugin.State;

/// <summary>
/// What a checkpoint payload must look like beyond what the JSON deserializer checks: no null
/// where the plugin never writes one, enum values it defines, valid claim UIDs, no device listed
/// twice, device records that say whose they are. The plugin never writes anything else, so any
/// of these means the file cannot be trusted.
/// </summary>
public static class CheckpointShape
{
    /// <summary>Null when the payload is well formed; otherwise what is wrong with it, naming the field.</summary>
    public static string? Problem(CheckpointData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Claims is null)
        {
            return "field claims is null";
        }

        foreach (var (uid, claim) in data.Claims)
        {
            if (ClaimProblem(uid, claim) is { } problem)
            {
                return $"claim entry {uid}: {problem}";
            }
        }

        foreach (var (name, record) in data.Devices ?? [])
        {
            if (DeviceRecordProblem(name, record) is { } problem)
            {
                return $"devices.{name}: {problem}";
            }
        }

        return null;
    }

    private static string? ClaimProblem(string uid, CheckpointClaim? claim)
    {
        if (!ClaimUid.IsValid(uid))
        {
            return "the uid is not 1-128 characters of [A-Za-z0-9-]";
        }

        if (claim is null)
        {
            return "it is null";
        }

        if (claim.Namespace is null || claim.Name is null)
        {
            return "namespace or name is null";
        }

        if (!Enum.IsDefined(claim.State))
        {
            return $"state {(int)claim.State} is not a state";
        }

        if (claim.Devices is null || claim.Devices.Any(d => d is null || string.IsNullOrEmpty(d.Name) || d.Uuid is null))
        {
            return "devices is null or holds an entry without a name";
        }

        if (claim.Devices.Select(d => d.Name).Distinct(StringComparer.Ordinal).Count() != claim.Devices.Count)
        {
            return "devices lists a device twice";
        }

        if (claim.Devices.Select(d => d.MigInstance is null ? null : MigInstanceProblem(d.MigInstance)).FirstOrDefault(p => p is not null) is { } migProblem)
        {
            return "devices: " + migProblem;
        }

        if (claim.Devices.Select(d => d.MigSpec is null ? null : MigSpecProblem(d.MigSpec)).FirstOrDefault(p => p is not null) is { } specProblem)
        {
            return "devices: " + specProblem;
        }

        if (claim.Prepared is { } prepared && prepared.Any(p => p is null || p.DeviceName is null || p.PoolName is null || p.RequestNames is null || p.CdiDeviceIds is null || p.RequestNames.Any(r => r is null) || p.CdiDeviceIds.Any(c => c is null)))
        {
            return "prepared holds a null entry or field";
        }

        if (claim.DirtyDevices is { } dirty && (dirty.Any(string.IsNullOrEmpty) || dirty.Distinct(StringComparer.Ordinal).Count() != dirty.Count))
        {
            return "dirtyDevices holds a null, empty or repeated entry";
        }

        return null;
    }

    /// <summary>The plugin writes only what NVML can answer: slices 0-7, GPU-instance ids up to 63, compute-instance ids up to 7.</summary>
    private static string? MigInstanceProblem(CheckpointMigInstance mig)
    {
        if (string.IsNullOrEmpty(mig.Parent))
        {
            return "migInstance has no parent";
        }

        if (mig.ProfileId is < 0 or > 63 || mig.Start is < 0 or >= MemorySliceCount || mig.Size < 1 || mig.Start + mig.Size > MemorySliceCount)
        {
            return $"migInstance profile {mig.ProfileId} at {mig.Start}+{mig.Size} is outside profiles 0-63 or the {MemorySliceCount} memory slices";
        }

        if (mig.GpuInstanceId is < 0 or > 63 || mig.ComputeInstanceId is < 0 or > 7 || (mig.ComputeInstanceId is not null && mig.GpuInstanceId is null))
        {
            return "migInstance gpuInstanceId must be 0-63 and computeInstanceId 0-7 (and only with a gpuInstanceId)";
        }

        return (mig.Uuid is not null) != (mig.ComputeInstanceId is not null) ? "migInstance uuid is recorded with its compute instance, never alone" : null;
    }

    /// <summary>As <see cref="MigInstanceProblem"/>: ids NVML can answer, and a parent UUID of the length the plugin accepts from NVML.</summary>
    private static string? MigSpecProblem(CheckpointMigSpec spec) =>
        string.IsNullOrEmpty(spec.ParentUuid) || spec.ParentUuid.Length > MaxUuidLength
            ? $"migSpec parentUuid must be 1-{MaxUuidLength} characters"
            : spec.GpuInstanceId is < 0 or > 63 || spec.ComputeInstanceId is < 0 or > 7
                ? "migSpec gpuInstanceId must be 0-63 and computeInstanceId 0-7"
                : null;

    /// <summary>NVML's UUID buffer (NVML_DEVICE_UUID_V2_BUFFER_SIZE) is 96 bytes.</summary>
    private const int MaxUuidLength = 96;

    private static string? DeviceRecordProblem(string name, CheckpointDeviceRecord? record)
    {
        if (string.IsNullOrEmpty(name) || record is null || record.Uuid is null)
        {
            return "the record is null or has no uuid";
        }

        if (!Enum.IsDefined(record.State))
        {
            return $"state {(int)record.State} is not a state";
        }

        var needsClaim = record.State is DurableDeviceState.Prepared or DurableDeviceState.Releasing;
        if (needsClaim != (record.Claim is not null) || (record.Claim is not null && !ClaimUid.IsValid(record.Claim)))
        {
            return needsClaim ? "state " + record.State + " without a valid claim" : "state " + record.State + " names a claim";
        }

        if (record.State == DurableDeviceState.Dirty && record.Reason is not ("VramDirty" or "ScrubFailed"))
        {
            return "state Dirty needs reason VramDirty or ScrubFailed";
        }

        if (record.SlicesHoldState == true && (record.MemorySlices is null || record.State != DurableDeviceState.Dirty))
        {
            return "slicesHoldState needs memorySlices and state Dirty";
        }

        if (record.MemorySlices is { } slices)
        {
            if (slices.Count != MemorySliceCount)
            {
                return $"memorySlices has {slices.Count} entries; a partitioned GPU has {MemorySliceCount}";
            }

            for (var i = 0; i < slices.Count; i++)
            {
                if (SliceProblem(slices[i]) is { } problem)
                {
                    return $"memorySlices[{i}]: {problem}";
                }
            }
        }

        return null;
    }

    /// <summary>Memory slices of a MIG GPU (A100, H100: 8).</summary>
    public const int MemorySliceCount = 8;

    private static string? SliceProblem(CheckpointMemorySlice? slice)
    {
        if (slice is null)
        {
            return "it is null";
        }

        if (!Enum.IsDefined(slice.State))
        {
            return $"state {(int)slice.State} is not a state";
        }

        var needsClaim = slice.State is DurableDeviceState.Prepared or DurableDeviceState.Releasing;
        if (needsClaim != (slice.Claim is not null) || (slice.Claim is not null && !ClaimUid.IsValid(slice.Claim)))
        {
            return needsClaim ? "state " + slice.State + " without a valid claim" : "state " + slice.State + " names a claim";
        }

        return slice.State == DurableDeviceState.Dirty && slice.Reason is not ("VramDirty" or "ScrubFailed")
            ? "state Dirty needs reason VramDirty or ScrubFailed"
            : null;
    }
}
