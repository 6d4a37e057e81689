using System.Globalization;
using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// MIG on simulated GPUs. The 8 memory slices map onto the device's VRAM file: slice i is the byte range
/// <c>[i·M/8, (i+1)·M/8)</c> of an M-byte device, so an instance's memory is exactly its slices' bytes and a scrub of one
/// instance provably leaves its neighbours alone. Instances persist in <c>DIR/&lt;device&gt;.mig.json</c>
/// (<see cref="SimulatedMigStateFile"/>) so a restarted plugin sees them; MIG mode, the model and faults come from the
/// device's fault file (<see cref="SimulatedFaults"/>) where fault files are on (<see cref="SimulatedGpuOptions.FaultFiles"/>:
/// tests and the test build only; without them MIG mode reads off and nothing is injected). NVML's rules: creating needs MIG mode on (else NOT_SUPPORTED),
/// a placement the profile allows (else INVALID_ARGUMENT), no overlap and room under the profile's instance count (else
/// INSUFFICIENT_RESOURCES); destroying answers IN_USE while processes run on the instance or (GPU instance) compute
/// instances remain, NOT_FOUND when it does not exist. Every compute instance created gets a new MIG UUID. One writer
/// process at a time (the plugin); this instance serializes its own writers.
/// </summary>
public sealed class SimulatedMigBackend : IMigBackend
{
    private readonly SimulatedGpuOptions _options;
    private readonly Lock _gate = new();

    public SimulatedMigBackend(SimulatedGpuOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>Bytes of one memory slice: an eighth of the device.</summary>
    public long SliceBytes => _options.MemoryBytes / MigPlacement.MemorySliceCount;

    /// <summary>The byte range of the VRAM file that a placement's slices occupy.</summary>
    public (long Offset, long Length) ByteRange(MigPlacement placement) => (placement.Start * SliceBytes, placement.Size * SliceBytes);

    public string VramPath(string deviceName) => Path.Combine(_options.VramDirectory, deviceName + ".vram");

    /// <summary>
    /// The simulated <c>/proc/driver/nvidia-caps/mig-minors</c>: like the driver's, a fixed table of every GPU- and
    /// compute-instance capability minor, written (when absent) as soon as an instance gets a compute instance.
    /// </summary>
    public static string MinorsPath(string vramDirectory) => Path.Combine(vramDirectory, "mig-minors");

    /// <summary>
    /// Test evidence, written only where fault files are on (tests, the test build): one line per GPU instance destroyed,
    /// <c>gi=&lt;id&gt; start=&lt;slice&gt; size=&lt;slices&gt; nonzero=&lt;bytes&gt;</c>, the count of non-zero bytes in its memory at
    /// the moment of the destroy (before any driver zeroing), so a test can prove no instance was destroyed unscrubbed.
    /// </summary>
    public static string DestroyLogPath(string vramDirectory, string deviceName) => Path.Combine(vramDirectory, deviceName + ".mig-destroys.log");

    public Task<MigModeState> GetMigModeAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var faults = Faults(device);
        return Task.FromResult(new MigModeState(true, faults.MigEnabled, faults.MigPending));
    }

    public Task<IReadOnlyList<MigProfile>> GetProfilesAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(SimulatedMigProfiles.For(Model(Faults(device))));
    }

    public Task<IReadOnlyList<MigInstance>> GetInstancesAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var model = Model(Faults(device));
        IReadOnlyList<MigInstance> instances = [.. SimulatedMigStateFile.Read(_options.VramDirectory, Known(device)).Instances.Select(i => ToInstance(device.Name, model, i))];
        return Task.FromResult(instances);
    }

    public Task<MigInstance> CreateGpuInstanceAsync(GpuDevice device, int profileId, MigPlacement placement, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var name = Known(device);
        lock (_gate)
        {
            var faults = Faults(device);
            if (!faults.MigEnabled)
            {
                throw new MigException(MigErrorCode.NotSupported, $"{name}: creating a GPU instance: MIG mode is not enabled (NVML_ERROR_NOT_SUPPORTED)");
            }

            if (_options.MemoryBytes % (MigPlacement.MemorySliceCount * 4096L) != 0)
            {
                throw new MigException(MigErrorCode.NotSupported, $"{name}: simulated-memory must be a multiple of {MigPlacement.MemorySliceCount * 4096} bytes for MIG, got {_options.MemoryBytes}");
            }

            if (faults.MigFailCreate)
            {
                throw new MigException(MigErrorCode.Other, $"{name}: creating a GPU instance failed (injected fault migFailCreate; NVML_ERROR_UNKNOWN)");
            }

            var model = Model(faults);
            var profile = SimulatedMigProfiles.Find(model, profileId)
                ?? throw new MigException(MigErrorCode.InvalidArgument, $"{name}: unknown GPU instance profile {profileId} (NVML_ERROR_INVALID_ARGUMENT)");
            if (!profile.Placements.Contains(placement))
            {
                throw new MigException(MigErrorCode.InvalidArgument, $"{name}: placement {placement} is not allowed for profile {profile.Name} (NVML_ERROR_INVALID_ARGUMENT)");
            }

            var state = SimulatedMigStateFile.Read(_options.VramDirectory, name);
            if (state.Instances.Count(i => i.ProfileId == profileId) >= profile.MaxInstances)
            {
                throw new MigException(MigErrorCode.InsufficientResources, $"{name}: profile {profile.Name} allows at most {profile.MaxInstances} instances (NVML_ERROR_INSUFFICIENT_RESOURCES)");
            }

            if (state.Instances.FirstOrDefault(i => new MigPlacement(i.Start, i.Size).Overlaps(placement)) is { } taken)
            {
                throw new MigException(MigErrorCode.InsufficientResources,
                    $"{name}: placement {placement} overlaps GPU instance {taken.GpuInstanceId} at {new MigPlacement(taken.Start, taken.Size)} (NVML_ERROR_INSUFFICIENT_RESOURCES)");
            }

            var id = Enumerable.Range(1, MigPlacement.MemorySliceCount + 1).First(n => state.Instances.All(i => i.GpuInstanceId != n));
            var created = new SimulatedGpuInstance { GpuInstanceId = id, ProfileId = profileId, Start = placement.Start, Size = placement.Size };
            SimulatedMigStateFile.Write(_options.VramDirectory, name, state with { Instances = [.. state.Instances, created] });
            return Task.FromResult(ToInstance(name, model, created));
        }
    }

    public Task<MigInstance> CreateComputeInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var name = Known(device);
        lock (_gate)
        {
            var faults = Faults(device);
            var state = SimulatedMigStateFile.Read(_options.VramDirectory, name);
            var gi = Find(name, state, gpuInstanceId);
            if (gi.ComputeInstanceIds.Count > 0)
            {
                throw new MigException(MigErrorCode.InsufficientResources, $"{name}: GPU instance {gpuInstanceId} already has its full-size compute instance (NVML_ERROR_INSUFFICIENT_RESOURCES)");
            }

            var updated = gi with { ComputeInstanceIds = [0], Uuid = NewMigUuid() };
            SimulatedMigStateFile.Write(_options.VramDirectory, name, state with { Instances = [.. state.Instances.Select(i => i.GpuInstanceId == gpuInstanceId ? updated : i)] });
            WriteMinorsTableIfAbsent();
            return Task.FromResult(ToInstance(name, Model(faults), updated));
        }
    }

    public Task DestroyComputeInstanceAsync(GpuDevice device, int gpuInstanceId, int computeInstanceId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var name = Known(device);
        lock (_gate)
        {
            var faults = Faults(device);
            var state = SimulatedMigStateFile.Read(_options.VramDirectory, name);
            var gi = Find(name, state, gpuInstanceId);
            if (!gi.ComputeInstanceIds.Contains(computeInstanceId))
            {
                throw new MigException(MigErrorCode.NotFound, $"{name}: GPU instance {gpuInstanceId} has no compute instance {computeInstanceId} (NVML_ERROR_NOT_FOUND)");
            }

            ThrowIfInUse(name, faults, gpuInstanceId, "compute instance");
            var updated = gi with { ComputeInstanceIds = [.. gi.ComputeInstanceIds.Where(c => c != computeInstanceId)], Uuid = null };
            SimulatedMigStateFile.Write(_options.VramDirectory, name, state with { Instances = [.. state.Instances.Select(i => i.GpuInstanceId == gpuInstanceId ? updated : i)] });
            return Task.CompletedTask;
        }
    }

    public Task DestroyGpuInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var name = Known(device);
        lock (_gate)
        {
            var faults = Faults(device);
            var state = SimulatedMigStateFile.Read(_options.VramDirectory, name);
            var gi = Find(name, state, gpuInstanceId);
            if (gi.ComputeInstanceIds.Count > 0)
            {
                throw new MigException(MigErrorCode.InUse, $"{name}: GPU instance {gpuInstanceId} still has {gi.ComputeInstanceIds.Count} compute instance(s) (NVML_ERROR_IN_USE)");
            }

            ThrowIfInUse(name, faults, gpuInstanceId, "GPU instance");
            if (_options.FaultFiles)
            {
                var (offset, length) = ByteRange(new MigPlacement(gi.Start, gi.Size));
                File.AppendAllText(DestroyLogPath(_options.VramDirectory, name),
                    string.Create(CultureInfo.InvariantCulture, $"gi={gi.GpuInstanceId} start={gi.Start} size={gi.Size} nonzero={NonZeroBytes(name, offset, length)}\n"));
            }

            if (faults.MigDriverZeroesOnDestroy)
            {
                ZeroRange(name, ByteRange(new MigPlacement(gi.Start, gi.Size)));
            }

            SimulatedMigStateFile.Write(_options.VramDirectory, name, state with { Instances = [.. state.Instances.Where(i => i.GpuInstanceId != gpuInstanceId)] });
            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<GpuProcess>> GetInstanceProcessesAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<GpuProcess> processes = [.. (Faults(device).RunningProcesses ?? []).Where(p => p.GpuInstanceId == gpuInstanceId).Select(p => new GpuProcess(p.Pid, p.UsedMemoryBytes))];
        return Task.FromResult(processes);
    }

    /// <summary>
    /// The simulated equivalent of <c>CUDA_VISIBLE_DEVICES=MIG-&lt;uuid&gt;</c>: every MIG device of the node whose UUID
    /// is listed, with its parent. A UUID that no instance carries (or one without a compute instance) is not visible.
    /// </summary>
    public IReadOnlyList<(GpuDevice Parent, MigInstance Instance)> Visible(IReadOnlyCollection<string> uuids)
    {
        ArgumentNullException.ThrowIfNull(uuids);
        var found = new List<(GpuDevice, MigInstance)>();
        for (var index = 0; index < _options.DeviceCount; index++)
        {
            var parent = SimulatedDeviceCatalog.Device(index, _options.MemoryBytes);
            if (!File.Exists(SimulatedMigStateFile.PathFor(_options.VramDirectory, parent.Name)))
            {
                continue;
            }

            var model = Model(Faults(parent));
            foreach (var gi in SimulatedMigStateFile.Read(_options.VramDirectory, parent.Name).Instances)
            {
                if (gi.Uuid is not null && uuids.Contains(gi.Uuid, StringComparer.Ordinal))
                {
                    found.Add((parent, ToInstance(parent.Name, model, gi)));
                }
            }
        }

        return found;
    }

    /// <summary>A memory session over exactly the instance's slices of the parent's VRAM file, as a CUDA context on the MIG device would see it.</summary>
    public IDeviceMemorySession OpenInstanceMemorySession(GpuDevice parent, MigInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var name = Known(parent);
        var path = VramPath(name);
        if (!File.Exists(path))
        {
            throw new GpuBackendException($"simulated VRAM file {path} vanished: the device's memory is gone");
        }

        var (offset, length) = ByteRange(instance.Placement);
        var size = _options.MemoryBytes;
        return new SimulatedMemorySession(path, size, offset, length, 0, () => Faults(parent), faults => StuckByteOffset(faults, size));
    }

    /// <summary>The file offset of the stuck cell that <see cref="SimulatedFaults.MigFailVerifySlice"/> places in the middle of its slice.</summary>
    internal static long? StuckByteOffset(SimulatedFaults faults, long memoryBytes)
    {
        if (faults.MigFailVerifySlice is not { } slice)
        {
            return null;
        }

        var sliceBytes = memoryBytes / MigPlacement.MemorySliceCount;
        return (slice * sliceBytes) + (sliceBytes / 2);
    }

    private long NonZeroBytes(string deviceName, long offset, long length)
    {
        using var stream = new FileStream(VramPath(deviceName), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Position = offset;
        var buffer = new byte[1 << 20];
        long count = 0;
        for (var left = length; left > 0;)
        {
            var read = stream.Read(buffer, 0, (int)Math.Min(left, buffer.Length));
            if (read == 0)
            {
                break;
            }

            foreach (var b in buffer.AsSpan(0, read))
            {
                count += b == 0 ? 0 : 1;
            }

            left -= read;
        }

        return count;
    }

    /// <summary>GPU-instance ids 0-14 and compute-instance ids 0-7 per GPU, minors numbered from 3 (1: config, 2: monitor), as the driver lists them.</summary>
    private void WriteMinorsTableIfAbsent()
    {
        var path = MinorsPath(_options.VramDirectory);
        if (File.Exists(path))
        {
            return;
        }

        var text = new System.Text.StringBuilder("config 1\nmonitor 2\n");
        var minor = 3;
        for (var g = 0; g < _options.DeviceCount; g++)
        {
            for (var gi = 0; gi < 15; gi++)
            {
                text.Append(CultureInfo.InvariantCulture, $"gpu{g}/gi{gi}/access {minor++}\n");
                for (var ci = 0; ci < 8; ci++)
                {
                    text.Append(CultureInfo.InvariantCulture, $"gpu{g}/gi{gi}/ci{ci}/access {minor++}\n");
                }
            }
        }

        var temp = path + ".tmp";
        File.WriteAllText(temp, text.ToString());
        File.Move(temp, path, overwrite: false);
    }

    private void ZeroRange(string deviceName, (long Offset, long Length) range)
    {
        using var stream = new FileStream(VramPath(deviceName), FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        stream.Position = range.Offset;
        var zeros = new byte[1 << 20];
        for (var left = range.Length; left > 0; left -= zeros.Length)
        {
            stream.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
        }
    }

    private static void ThrowIfInUse(string name, SimulatedFaults faults, int gpuInstanceId, string what)
    {
        var processes = (faults.RunningProcesses ?? []).Count(p => p.GpuInstanceId == gpuInstanceId);
        if (processes > 0 || faults.MigDestroyInUse)
        {
            var why = processes > 0 ? $"{processes} process(es) still run on it" : "injected fault migDestroyInUse";
            throw new MigException(MigErrorCode.InUse, $"{name}: destroying the {what} of GPU instance {gpuInstanceId}: {why} (NVML_ERROR_IN_USE)");
        }
    }

    private static SimulatedGpuInstance Find(string name, SimulatedMigState state, int gpuInstanceId) =>
        state.Instances.FirstOrDefault(i => i.GpuInstanceId == gpuInstanceId)
            ?? throw new MigException(MigErrorCode.NotFound, $"{name}: no GPU instance {gpuInstanceId} (NVML_ERROR_NOT_FOUND)");

    private MigInstance ToInstance(string parentName, SimulatedMigModel model, SimulatedGpuInstance gi)
    {
        var placement = new MigPlacement(gi.Start, gi.Size);
        var profileName = SimulatedMigProfiles.Find(model, gi.ProfileId)?.Name ?? $"profile-{gi.ProfileId}";
        return new MigInstance(parentName, gi.GpuInstanceId, gi.ProfileId, profileName, placement, ByteRange(placement).Length,
            [.. gi.ComputeInstanceIds.Select(c => new MigComputeInstance(c, SimulatedMigProfiles.FullComputeInstanceProfileId))], gi.Uuid);
    }

    private static string NewMigUuid()
    {
        var hex = Guid.NewGuid().ToString("N");
        return $"MIG-{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";
    }

    private static SimulatedMigModel Model(SimulatedFaults faults) => SimulatedMigModels.Parse(faults.MigModel) ?? SimulatedMigModel.H100_80GB;

    /// <summary>MIG mode, model and injected faults: from the fault file only with <see cref="SimulatedGpuOptions.FaultFiles"/> on (tests, the test build); otherwise none, so MIG mode reads off.</summary>
    private SimulatedFaults Faults(GpuDevice device)
    {
        var name = Known(device);
        return _options.FaultFiles ? SimulatedFaultFile.Read(_options.VramDirectory, name) : SimulatedFaults.None;
    }

    private string Known(GpuDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.Index >= 0 && device.Index < _options.DeviceCount && SimulatedDeviceCatalog.DeviceName(device.Index) == device.Name
            ? device.Name
            : throw new GpuBackendException($"unknown simulated device {device.Name}");
    }
}
