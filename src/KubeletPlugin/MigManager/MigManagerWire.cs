using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Scrubbing;
using Wire = SecureDra.Protocol.MigManager.V1;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// Records to messages and back, with the bounds of each side: the manager checks every request field (an id, a
/// placement, a UUID) before it touches NVML; the plugin checks every answer (counts, lengths, placements) before it
/// believes it. A violation names the field and the limit (<see cref="ArgumentException"/>).
/// </summary>
public static class MigManagerWire
{
    public const int MaxUuidChars = 96;
    public const int MaxNameChars = 128;
    public const int MaxId = 64;
    public const int MaxProfiles = 64;
    public const int MaxInstances = 64;
    public const int MaxComputeInstances = 8;
    public const int MaxProcesses = 4096;
    public const int MaxGpus = 64;

    // ---- requests, checked by the manager ----

    public static string GpuUuid(string value) =>
        value.Length is 0 or > MaxUuidChars || value.Any(char.IsControl)
            ? throw new ArgumentException($"gpu_uuid: must be 1 to {MaxUuidChars} printable characters, got {value.Length}")
            : value;

    public static int Id(int value, string field) =>
        value is < 0 or > MaxId ? throw new ArgumentException($"{field}: must be from 0 to {MaxId}, got {value}") : value;

    public static ScrubTrigger Trigger(Wire.ScrubTrigger value, string field) => value switch
    {
        Wire.ScrubTrigger.Release => ScrubTrigger.Release,
        Wire.ScrubTrigger.Retry => ScrubTrigger.Retry,
        Wire.ScrubTrigger.Startup => ScrubTrigger.Startup,
        Wire.ScrubTrigger.Health => ScrubTrigger.Health,
        Wire.ScrubTrigger.Cli => ScrubTrigger.Cli,
        _ => throw new ArgumentException($"{field}: must be one of release, retry, startup, health, cli, got {(int)value}"),
    };

    public static Wire.ScrubTrigger ToWire(ScrubTrigger value) => value switch
    {
        ScrubTrigger.Release => Wire.ScrubTrigger.Release,
        ScrubTrigger.Retry => Wire.ScrubTrigger.Retry,
        ScrubTrigger.Startup => Wire.ScrubTrigger.Startup,
        ScrubTrigger.Health => Wire.ScrubTrigger.Health,
        ScrubTrigger.Cli => Wire.ScrubTrigger.Cli,
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "not a scrub trigger"),
    };

    public static MigPlacement Placement(Wire.Placement? value, string field)
    {
        if (value is null)
        {
            throw new ArgumentException($"{field}: required");
        }

        var placement = new MigPlacement(value.Start, value.Size);
        return placement.IsValid ? placement : throw new ArgumentException($"{field}: must lie within memory slices 0 to {MigPlacement.MemorySliceCount - 1}, got start {value.Start} size {value.Size}");
    }

    public static string InstanceUuid(string value) =>
        value.StartsWith("MIG-", StringComparison.Ordinal) && value.Length <= MaxUuidChars && !value.Any(char.IsControl)
            ? value
            : throw new ArgumentException($"instance_uuid: must be a MIG UUID (MIG-…, at most {MaxUuidChars} characters)");

    // ---- answers, built by the manager ----

    public static Wire.MigModeResponse ToWire(MigModeState state) => new() { Supported = state.Supported, Current = state.Current, Pending = state.Pending };

    public static Wire.Profile ToWire(MigProfile p)
    {
        var profile = new Wire.Profile
        {
            Id = p.Id,
            Name = p.Name,
            MemoryMib = p.MemoryMiB,
            ComputeSliceCount = p.ComputeSliceCount,
            MemorySliceCount = p.MemorySliceCount,
            MaxInstances = p.MaxInstances,
            Capacities = new Wire.Capacities
            {
                Multiprocessors = p.Capacities.Multiprocessors,
                CopyEngines = p.Capacities.CopyEngines,
                Decoders = p.Capacities.Decoders,
                Encoders = p.Capacities.Encoders,
                JpegEngines = p.Capacities.JpegEngines,
                OfaEngines = p.Capacities.OfaEngines,
            },
        };
        profile.Placements.AddRange(p.Placements.Select(ToWire));
        return profile;
    }

    public static Wire.Placement ToWire(MigPlacement p) => new() { Start = p.Start, Size = p.Size };

    public static Wire.Instance ToWire(MigInstance i)
    {
        var instance = new Wire.Instance
        {
            GpuInstanceId = i.GpuInstanceId,
            ProfileId = i.ProfileId,
            ProfileName = i.ProfileName,
            Placement = ToWire(i.Placement),
            MemoryBytes = i.MemoryBytes,
            Uuid = i.Uuid ?? "",
        };
        instance.ComputeInstances.AddRange(i.ComputeInstances.Select(c => new Wire.ComputeInstance { Id = c.Id, ProfileId = c.ProfileId }));
        return instance;
    }

    public static Wire.ScrubResponse ToWire(MigScrubResult r) => new()
    {
        InstanceUuid = r.InstanceUuid,
        Succeeded = r.Succeeded,
        Verified = r.Verified,
        InstanceMemoryBytes = r.InstanceMemoryBytes,
        BytesZeroed = r.BytesZeroed,
        Coverage = r.Coverage,
        DurationMs = (long)r.Duration.TotalMilliseconds,
        Method = r.Method,
        FailureReason = r.FailureReason ?? "",
    };

    // ---- answers, checked by the plugin ----

    public static MigModeState FromWire(Wire.MigModeResponse r) => new(r.Supported, r.Current, r.Pending);

    public static IReadOnlyList<MigProfile> FromWire(Wire.ProfilesResponse r)
    {
        Count(r.Profiles.Count, MaxProfiles, "profiles");
        return [.. r.Profiles.Select(p =>
        {
            Count(p.Placements.Count, MigPlacement.MemorySliceCount, "profiles[].placements");
            var c = p.Capacities ?? throw new ArgumentException("profiles[].capacities: required");
            return new MigProfile(
                Id(p.Id, "profiles[].id"),
                Name(p.Name, "profiles[].name"),
                Range(p.MemoryMib, 0, 1L << 30, "profiles[].memory_mib"),
                (int)Range(p.ComputeSliceCount, 0, MaxId, "profiles[].compute_slice_count"),
                (int)Range(p.MemorySliceCount, 1, MigPlacement.MemorySliceCount, "profiles[].memory_slice_count"),
                (int)Range(p.MaxInstances, 0, MaxId, "profiles[].max_instances"),
                new MigCapacities(
                    (int)Range(c.Multiprocessors, 0, 1 << 16, "capacities.multiprocessors"),
                    (int)Range(c.CopyEngines, 0, 1 << 10, "capacities.copy_engines"),
                    (int)Range(c.Decoders, 0, 1 << 10, "capacities.decoders"),
                    (int)Range(c.Encoders, 0, 1 << 10, "capacities.encoders"),
                    (int)Range(c.JpegEngines, 0, 1 << 10, "capacities.jpeg_engines"),
                    (int)Range(c.OfaEngines, 0, 1 << 10, "capacities.ofa_engines")),
                [.. p.Placements.Select(x => Placement(x, "profiles[].placements[]"))]);
        })];
    }

    public static IReadOnlyList<MigInstance> FromWire(Wire.InstancesResponse r, string parentName)
    {
        Count(r.Instances.Count, MaxInstances, "instances");
        return [.. r.Instances.Select(i => FromWire(i, parentName))];
    }

    public static MigInstance FromWire(Wire.Instance i, string parentName)
    {
        Count(i.ComputeInstances.Count, MaxComputeInstances, "instance.compute_instances");
        return new MigInstance(
            parentName,
            Id(i.GpuInstanceId, "instance.gpu_instance_id"),
            Id(i.ProfileId, "instance.profile_id"),
            Name(i.ProfileName, "instance.profile_name"),
            Placement(i.Placement, "instance.placement"),
            Range(i.MemoryBytes, 0, 1L << 50, "instance.memory_bytes"),
            [.. i.ComputeInstances.Select(c => new MigComputeInstance(Id(c.Id, "compute_instances[].id"), Id(c.ProfileId, "compute_instances[].profile_id")))],
            i.Uuid.Length == 0 ? null : InstanceUuid(i.Uuid));
    }

    public static IReadOnlyList<GpuProcess> FromWire(Wire.ProcessesResponse r)
    {
        Count(r.Processes.Count, MaxProcesses, "processes");
        return [.. r.Processes.Select(p => new GpuProcess(p.Pid, Range(p.UsedMemoryBytes, 0, long.MaxValue, "processes[].used_memory_bytes")))];
    }

    private static void Count(int count, int max, string field)
    {
        if (count > max)
        {
            throw new ArgumentException($"{field}: at most {max} entries, got {count}");
        }
    }

    private static string Name(string value, string field) =>
        value.Length > MaxNameChars || value.Any(char.IsControl)
            ? throw new ArgumentException($"{field}: at most {MaxNameChars} printable characters")
            : value;

    private static long Range(long value, long min, long max, string field) =>
        value < min || value > max ? throw new ArgumentException($"{field}: must be from {min} to {max}, got {value}") : value;
}
