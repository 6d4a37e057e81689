using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Native.Nvml;

namespace SecureDra.Nvml.Backends.Nvidia;

/// <summary>
/// MIG through NVML. Profiles: every NVML_GPU_INSTANCE_PROFILE_* index the GPU answers, with its possible placements,
/// kept only where a compute-instance profile of the same slice count exists (one full-size compute instance per GPU
/// instance, so one tenant per instance's memory). Instances: nvmlDeviceGetGpuInstances per profile, their compute
/// instances per compute profile, and the MIG UUID from the MIG device handles (nvmlDeviceGetMigDeviceHandleByIndex).
/// State-changing calls need the mig-config capability or CAP_SYS_ADMIN; without it NVML answers NO_PERMISSION, which
/// surfaces as <see cref="MigErrorCode.NoPermission"/>. Serialized: NVML's MIG calls on one GPU do not compose.
/// </summary>
public sealed class NvidiaMigBackend : IMigBackend, IDisposable
{
    private const long MiB = 1024 * 1024;
    private readonly Lock _gate = new();
    private NvmlLibrary? _nvml;

    public Task<MigModeState> GetMigModeAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var handle = Handle(device);
            var r = NvmlMig.GetMigModeRaw(handle, out var current, out var pending);
            if (r == NvmlReturn.NotSupported)
            {
                return Task.FromResult(MigModeState.NotSupported);
            }

            Check(device, r, "nvmlDeviceGetMigMode");
            return Task.FromResult(new MigModeState(true, current == 1, pending == 1));
        }
    }

    public Task<IReadOnlyList<MigProfile>> GetProfilesAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<MigProfile>>(Profiles(Handle(device)));
        }
    }

    public Task<IReadOnlyList<MigInstance>> GetInstancesAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var handle = Handle(device);

            // Without MIG mode on there are no instances, and NVML answers the listing calls with errors.
            if (NvmlMig.GetMigModeRaw(handle, out var current, out _) != NvmlReturn.Success || current != 1)
            {
                return Task.FromResult<IReadOnlyList<MigInstance>>([]);
            }

            var profiles = Profiles(handle);
            var uuids = MigUuids(handle);
            var instances = new List<MigInstance>();
            foreach (var profile in profiles)
            {
                foreach (var gi in NvmlMig.GetGpuInstances(handle, (uint)profile.Id))
                {
                    instances.Add(Describe(device, gi, profile, uuids));
                }
            }

            return Task.FromResult<IReadOnlyList<MigInstance>>([.. instances.OrderBy(i => i.Placement.Start)]);
        }
    }

    public Task<MigInstance> CreateGpuInstanceAsync(GpuDevice device, int profileId, MigPlacement placement, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var handle = Handle(device);
            var profile = Profiles(handle).FirstOrDefault(p => p.Id == profileId)
                ?? throw new MigException(MigErrorCode.InvalidArgument, $"{device.Name}: GPU instance profile {profileId} is not offered by this GPU");
            var r = NvmlMig.CreateGpuInstanceWithPlacementRaw(handle, (uint)profileId, new NvmlGpuInstancePlacement { Start = (uint)placement.Start, Size = (uint)placement.Size }, out var gi);
            Check(device, r, "nvmlDeviceCreateGpuInstanceWithPlacement");
            return Task.FromResult(Describe(device, gi, profile, MigUuids(handle)));
        }
    }

    public Task<MigInstance> CreateComputeInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var handle = Handle(device);
            var gi = GpuInstance(device, handle, gpuInstanceId);
            Check(device, NvmlMig.GpuInstanceGetInfoRaw(gi, out var info), "nvmlGpuInstanceGetInfo");
            var profile = Profiles(handle).FirstOrDefault(p => p.Id == (int)info.ProfileId)
                ?? throw new MigException(MigErrorCode.NotSupported, $"{device.Name}: GPU instance {gpuInstanceId} has profile {info.ProfileId}, which offers no full-size compute instance");
            var ciIndex = ComputeProfileIndex(profile.ComputeSliceCount)
                ?? throw new MigException(MigErrorCode.NotSupported, $"{device.Name}: no compute-instance profile spans {profile.ComputeSliceCount} slices");
            Check(device, NvmlMig.GetComputeInstanceProfileInfoRaw(gi, ciIndex, out var ciProfile), "nvmlGpuInstanceGetComputeInstanceProfileInfoV");
            Check(device, NvmlMig.CreateComputeInstanceRaw(gi, ciProfile.Id, out _), "nvmlGpuInstanceCreateComputeInstance");
            return Task.FromResult(Describe(device, gi, profile, MigUuids(handle)));
        }
    }

    public Task DestroyComputeInstanceAsync(GpuDevice device, int gpuInstanceId, int computeInstanceId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var gi = GpuInstance(device, Handle(device), gpuInstanceId);
            var ci = ComputeInstances(gi).FirstOrDefault(c => c.Info.Id == (uint)computeInstanceId);
            if (ci.Handle.Value == 0)
            {
                throw new MigException(MigErrorCode.NotFound, $"{device.Name}: GPU instance {gpuInstanceId} has no compute instance {computeInstanceId}");
            }

            Check(device, NvmlMig.ComputeInstanceDestroyRaw(ci.Handle), "nvmlComputeInstanceDestroy");
            return Task.CompletedTask;
        }
    }

    public Task DestroyGpuInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var gi = GpuInstance(device, Handle(device), gpuInstanceId);
            Check(device, NvmlMig.GpuInstanceDestroyRaw(gi), "nvmlGpuInstanceDestroy");
            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<GpuProcess>> GetInstanceProcessesAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var nvml = Nvml();
            IReadOnlyList<GpuProcess> processes = [.. nvml.GetComputeRunningProcesses(Handle(device))
                .Where(p => p.GpuInstanceId == (uint)gpuInstanceId)
                .Select(p => new GpuProcess((int)p.Pid, p.UsedGpuMemory == NvmlProcessInfo.ValueNotAvailable ? -1 : (long)p.UsedGpuMemory))];
            return Task.FromResult(processes);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _nvml?.Dispose();
            _nvml = null;
        }
    }

    /// <summary>NVML_COMPUTE_INSTANCE_PROFILE_* index whose compute instance spans <paramref name="sliceCount"/> slices.</summary>
    public static uint? ComputeProfileIndex(int sliceCount) => sliceCount switch
    {
        1 => 0x0,
        2 => 0x1,
        3 => 0x2,
        4 => 0x3,
        7 => 0x4,
        8 => 0x5,
        6 => 0x6,
        _ => null,
    };

    /// <summary>"MIG 1g.10gb" → "1g.10gb": NVML prefixes profile names; NVIDIA's DRA driver publishes them without.</summary>
    public static string ProfileName(string nvmlName) => nvmlName.StartsWith("MIG ", StringComparison.Ordinal) ? nvmlName[4..] : nvmlName;

    private static List<MigProfile> Profiles(NvmlDeviceHandle handle)
    {
        var profiles = new List<MigProfile>();
        for (uint index = 0; index < NvmlMig.GpuInstanceProfileIndexCount; index++)
        {
            if (NvmlMig.GetGpuInstanceProfileInfo(handle, index) is not { } info || ComputeProfileIndex((int)info.SliceCount) is null)
            {
                continue;
            }

            var placements = NvmlMig.GetGpuInstancePossiblePlacements(handle, info.Id)
                .Select(p => new MigPlacement((int)p.Start, (int)p.Size))
                .Where(p => p.IsValid)
                .ToArray();
            if (placements.Length == 0 || profiles.Any(p => p.Id == (int)info.Id))
            {
                continue;
            }

            profiles.Add(new MigProfile(
                (int)info.Id,
                ProfileName(info.NameString),
                (long)info.MemorySizeMB,
                (int)info.SliceCount,
                placements[0].Size,
                (int)info.InstanceCount,
                new MigCapacities((int)info.MultiprocessorCount, (int)info.CopyEngineCount, (int)info.DecoderCount, (int)info.EncoderCount, (int)info.JpegCount, (int)info.OfaCount),
                placements));
        }

        return profiles;
    }

    private static MigInstance Describe(GpuDevice device, NvmlGpuInstanceHandle gi, MigProfile profile, IReadOnlyDictionary<(uint Gi, uint Ci), (string Uuid, long TotalBytes)> uuids)
    {
        Check(device, NvmlMig.GpuInstanceGetInfoRaw(gi, out var info), "nvmlGpuInstanceGetInfo");
        var cis = ComputeInstances(gi).Select(c => new MigComputeInstance((int)c.Info.Id, (int)c.Info.ProfileId)).OrderBy(c => c.Id).ToArray();
        string? uuid = null;
        var memory = profile.MemoryMiB * MiB;
        foreach (var ci in cis)
        {
            if (uuids.TryGetValue((info.Id, (uint)ci.Id), out var u))
            {
                uuid = u.Uuid;

                // What the MIG device itself reports is what a CUDA context on it sees (and must cover); the profile's
                // nominal size is the fallback while there is no MIG device.
                memory = u.TotalBytes > 0 ? u.TotalBytes : memory;
                break;
            }
        }

        return new MigInstance(device.Name, (int)info.Id, (int)info.ProfileId, profile.Name,
            new MigPlacement((int)info.Placement.Start, (int)info.Placement.Size), memory, cis, uuid);
    }

    private static List<(NvmlComputeInstanceHandle Handle, NvmlComputeInstanceInfo Info)> ComputeInstances(NvmlGpuInstanceHandle gi)
    {
        var found = new List<(NvmlComputeInstanceHandle, NvmlComputeInstanceInfo)>();
        var buffer = new NvmlComputeInstanceHandle[NvmlMig.MaxListed];
        for (uint index = 0; index < NvmlMig.ComputeInstanceProfileIndexCount; index++)
        {
            if (NvmlMig.GetComputeInstanceProfileInfoRaw(gi, index, out var profile) != NvmlReturn.Success)
            {
                continue;
            }

            if (NvmlMig.GetComputeInstancesRaw(gi, profile.Id, buffer, out var count) != NvmlReturn.Success)
            {
                continue;
            }

            for (var i = 0; i < Math.Min((int)count, buffer.Length); i++)
            {
                if (NvmlMig.ComputeInstanceGetInfoRaw(buffer[i], out var info) == NvmlReturn.Success && found.All(f => f.Item2.Id != info.Id))
                {
                    found.Add((buffer[i], info));
                }
            }
        }

        return found;
    }

    private Dictionary<(uint Gi, uint Ci), (string Uuid, long TotalBytes)> MigUuids(NvmlDeviceHandle handle)
    {
        var uuids = new Dictionary<(uint, uint), (string, long)>();
        if (NvmlMig.GetMaxMigDeviceCountRaw(handle, out var max) != NvmlReturn.Success)
        {
            return uuids;
        }

        for (uint i = 0; i < Math.Min(max, (uint)NvmlMig.MaxListed); i++)
        {
            if (NvmlMig.GetMigDeviceHandleByIndexRaw(handle, i, out var mig) != NvmlReturn.Success
                || NvmlMig.GetGpuInstanceIdRaw(mig, out var gi) != NvmlReturn.Success
                || NvmlMig.GetComputeInstanceIdRaw(mig, out var ci) != NvmlReturn.Success)
            {
                continue;
            }

            long total;
            try
            {
                total = (long)Nvml().GetMemoryInfo(mig).Total;
            }
            catch (NvmlException)
            {
                total = 0;
            }

            uuids[(gi, ci)] = (NvmlMig.GetUuid(mig), total);
        }

        return uuids;
    }

    private static NvmlGpuInstanceHandle GpuInstance(GpuDevice device, NvmlDeviceHandle handle, int gpuInstanceId)
    {
        Check(device, NvmlMig.GetGpuInstanceByIdRaw(handle, (uint)gpuInstanceId, out var gi), "nvmlDeviceGetGpuInstanceById");
        return gi;
    }

    private static void Check(GpuDevice device, NvmlReturn r, string function)
    {
        if (r != NvmlReturn.Success)
        {
            var nvml = new NvmlException(function, r, NvmlLibrary.ErrorString(r));
            throw new MigException(MigException.Map(r), $"{device.Name}: {nvml.Message}", nvml);
        }
    }

    private NvmlDeviceHandle Handle(GpuDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return Nvml().GetHandleByUuid(device.Uuid);
    }

    private NvmlLibrary Nvml() => _nvml ??= NvidiaNvmlOpener.Open();
}
