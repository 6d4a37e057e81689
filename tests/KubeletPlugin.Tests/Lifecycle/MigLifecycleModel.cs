using Microsoft.Extensions.DependencyInjection;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Mig;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Tests.Lifecycle;

/// <summary>Which per-instance scrub the MIG model runs: the product's, or a mutation the model must catch.</summary>
public enum MigScrubUnderTest
{
    /// <summary>Zeroes and verifies exactly the instance's memory (the scrub-worker's view, in-process).</summary>
    Real,

    /// <summary>The per-instance scrub removed: a release is reported verified without touching memory.</summary>
    Skipped,

    /// <summary>A scrub that is not confined to its instance: it zeroes the whole GPU's memory.</summary>
    Overreaching,
}

/// <summary>
/// The lifecycle model for MIG (docs/mig.md, "Lifecycle model"): the real pipeline in <c>--mig-mode static</c> over
/// one simulated H100 whose memory is one file shared by its instances (slice i = an eighth of it) and by the whole
/// GPU, driven through Prepare/Unprepare of instances, scrub failures on one slice, crashes at every step and
/// restarts, and MIG mode toggled during maintenance. Checked after every step:
/// <list type="number">
/// <item>no device, an instance or the whole GPU, is offered unless every memory slice it covers has a durable verified
/// scrub since its last use (the checkpoint's <c>memorySlices</c> / device record say Clean) and its memory is zero;</item>
/// <item>a tenant's container never reads another tenant's canary (at Prepare and whenever containers write);</item>
/// <item>a running tenant's memory holds exactly its own canary: a neighbour's release, scrub, crash or restart
/// changed none of its bytes;</item>
/// <item>every claim the kubelet prepared stays prepared in the plugin until the kubelet unprepares it.</item>
/// </list>
/// </summary>
public sealed class MigLifecycleModel : IAsyncDisposable
{
    public const long Memory = 64 * 1024;

    private static readonly string[] PrepareCrashPoints = [CrashPoints.PrepareAfterCheckpointStarted, CrashPoints.PrepareAfterCdi, CrashPoints.PrepareAfterCheckpointPrepared];

    private static readonly string[] UnprepareCrashPoints =
    [
        CrashPoints.UnprepareAfterCheckpointStarted, CrashPoints.UnprepareAfterScrub, CrashPoints.UnprepareAfterCdiDelete, CrashPoints.UnprepareAfterCheckpointDone,
    ];

    /// <summary>The administrator's layout: 3g.40gb at slices 0-3, 2g.20gb at 4-5, 1g.10gb at 6 (slice 7 unused).</summary>
    private static readonly (int Profile, MigPlacement Placement)[] Layout =
        [(SimulatedMigProfiles.Profile3g, new MigPlacement(0, 4)), (SimulatedMigProfiles.Profile2g, new MigPlacement(4, 2)), (SimulatedMigProfiles.Profile1g, new MigPlacement(6, 1))];

    private readonly string _dir;
    private readonly SimulatedMigBackend _sim;
    private readonly GpuDevice _parent = SimulatedDeviceCatalog.Device(0, Memory);
    private readonly PipelineHarness _h;
    private readonly Dictionary<int, string> _api = [];
    private readonly Dictionary<int, KubeletClaim> _kubelet = [];
    private readonly Dictionary<int, string> _kubeletDevice = [];
    private int _nextClaim;
    private int _step;
    private string _op = "";
    private int? _stuckSlice;
    private PipelineDiskSnapshot? _crashSnapshot;

    /// <summary>What the sequences exercised, so the fixed seeds can show they are not vacuous.</summary>
    public sealed class Coverage
    {
        public int InstancePrepares { get; set; }
        public int WholeGpuPrepares { get; set; }
        public int InstanceReleases { get; set; }
        public int FailedInstanceScrubs { get; set; }
        public int MigOff { get; set; }
        public int MigOn { get; set; }
        public int Crashes { get; set; }
    }

    public Coverage Seen { get; } = new();

    private MigLifecycleModel(string dir, SimulatedMigBackend sim, PipelineHarness h)
    {
        _dir = dir;
        _sim = sim;
        _h = h;
    }

    private string SimVram => Path.Combine(_dir, "gpu-0.vram");

    private string MinorsPath => Path.Combine(_dir, "mig-minors");

    /// <summary>A previous tenant's byte, left in the memory of a node's first start (never a model tenant's canary).</summary>
    public const byte PreviousTenant = 0x3F;

    /// <param name="firstStart">No checkpoint (a first install on a GPU already in MIG mode) and every byte of memory left
    /// by a previous tenant: the instances must be proven through their own scrubs before they are offered.</param>
    public static async Task<MigLifecycleModel> StartAsync(MigScrubUnderTest scrub = MigScrubUnderTest.Real, bool firstStart = false)
    {
        var parent = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var dir = Path.Combine(parent, "securedra-mig-model-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var sim = new SimulatedMigBackend(new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = Memory, VramDirectory = dir, FaultFiles = true });
        using (var vram = new FileStream(Path.Combine(dir, "gpu-0.vram"), FileMode.Create))
        {
            vram.SetLength(Memory);
            if (firstStart)
            {
                var previous = new byte[Memory];
                Array.Fill(previous, PreviousTenant);
                vram.Write(previous);
            }
        }

        IMigInstanceScrubber scrubber = scrub switch
        {
            MigScrubUnderTest.Skipped => new SkippingScrubber(),
            MigScrubUnderTest.Overreaching => new OverreachingScrubber(Path.Combine(dir, "gpu-0.vram")),
            _ => new InProcessMigInstanceScrubber(sim),
        };
        var h = PipelineHarness.Create(1, new ClaimPipelineOptions { MigMode = MigMode.Static, MigMinorsPath = Path.Combine(dir, "mig-minors") }, provenClean: !firstStart, parentDirectory: parent, mig: sim, migScrubber: scrubber);

        // One physical memory: the whole-GPU scrub (FakeScrubber) and the instances see the same file.
        Directory.CreateDirectory(Path.GetDirectoryName(h.Backend.VramPath("gpu-0"))!);
        File.Delete(h.Backend.VramPath("gpu-0"));
        File.CreateSymbolicLink(h.Backend.VramPath("gpu-0"), Path.Combine(dir, "gpu-0.vram"));

        var model = new MigLifecycleModel(dir, sim, h);
        h.Crash.OnFail = _ => model.SnapshotDisk();
        await model.SetMigModeAsync(true);
        await h.StartAsync();
        await h.Publisher.StartAsync(CancellationToken.None);
        return model;
    }

    public async Task RunAsync(IReadOnlyList<MigLifecycleOp> ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        Check();
        foreach (var op in ops)
        {
            _step++;
            _op = op.ToString();
            await ApplyAsync(op);
            Check();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopPublisherAsync();
        await _h.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    // ------------------------------------------------------------------ operations

    private async Task ApplyAsync(MigLifecycleOp op)
    {
        switch (op.Kind)
        {
            case MigLifecycleOpKind.Prepare:
                await PrepareAsync(op.X, crashAt: null);
                break;
            case MigLifecycleOpKind.Unprepare:
                await UnprepareAsync(op.A, crashAt: null);
                break;
            case MigLifecycleOpKind.ContainersWrite:
                foreach (var c in Running())
                {
                    WriteCanary(c);
                }

                foreach (var c in Running())
                {
                    AssertOnlyOwnOrZero(c, "a running container");
                }

                break;
            case MigLifecycleOpKind.ScrubFault:
                ScrubFault(op);
                break;
            case MigLifecycleOpKind.RetryTick:
                await RetryTickAsync();
                break;
            case MigLifecycleOpKind.Crash:
                if (op.A < PrepareCrashPoints.Length)
                {
                    await PrepareAsync(op.X, PrepareCrashPoints[op.A]);
                }
                else
                {
                    await UnprepareAsync(op.X, UnprepareCrashPoints[(op.A - PrepareCrashPoints.Length) % UnprepareCrashPoints.Length]);
                }

                break;
            case MigLifecycleOpKind.Restart:
                await RestartAsync();
                break;
            case MigLifecycleOpKind.MigToggle:
                await MigToggleAsync();
                break;
        }
    }

    private async Task PrepareAsync(int x, string? crashAt)
    {
        var devices = DeviceNames();
        var device = devices[x % devices.Count];
        if (_api.Values.Contains(device) || !IsOffered(device))
        {
            return; // the scheduler does not pick an allocated or withdrawn device
        }

        var c = ++_nextClaim;
        _api[c] = device;
        _h.Api.PutClaim(TestClaims.Allocated(c, device));
        _kubelet[c] = KubeletClaim.PrepareFailed;
        _kubeletDevice[c] = device;

        _h.Crash.FailAt = crashAt;
        var results = await _h.Pipeline.PrepareAsync([TestClaims.Ref(c)], CancellationToken.None);
        _h.Crash.FailAt = null;
        if (await RecoverFromCrashAsync() || results[TestClaims.Uid(c)].Error is not null)
        {
            return;
        }

        AssertOnlyOwnOrZero(c, "a freshly prepared claim");
        if (_h.Inventory.IsPlacement(device))
        {
            Seen.InstancePrepares++;
        }
        else
        {
            Seen.WholeGpuPrepares++;
        }

        _kubelet[c] = KubeletClaim.Running;
        WriteCanary(c);
    }

    private async Task UnprepareAsync(int a, string? crashAt)
    {
        var held = _kubelet.Keys.Order().ToList();
        if (held.Count == 0)
        {
            return;
        }

        var c = held[a % held.Count];
        _kubelet[c] = KubeletClaim.Unpreparing;
        _h.Crash.FailAt = crashAt;
        var results = await _h.Pipeline.UnprepareAsync([TestClaims.Ref(c)], CancellationToken.None);
        _h.Crash.FailAt = null;
        if (await RecoverFromCrashAsync() || results[TestClaims.Uid(c)].Error is not null)
        {
            return;
        }

        if (_h.Inventory.GetPlacement(_kubeletDevice[c]) is { } placement)
        {
            Seen.InstanceReleases++;
            Seen.FailedInstanceScrubs += placement.State == DeviceState.Dirty ? 1 : 0;
        }

        _kubelet.Remove(c);
        _kubeletDevice.Remove(c);
        _api.Remove(c);
        _h.Api.RemoveClaim("tenant", $"claim-{c}");
    }

    private void ScrubFault(MigLifecycleOp op)
    {
        switch (op.A % 3)
        {
            case 0:
                var devices = DeviceNames();
                _stuckSlice = Range(devices[op.X % devices.Count]).FirstSlice;
                break;
            case 1:
                _stuckSlice = null;
                break;
            default:
                _h.Scrubber.Plan("gpu-0", ScrubBehavior.NotVerified);
                break;
        }

        WriteFaults();
    }

    /// <summary>What one pass of the retry loop does (ScrubRetryService), without its real-time backoff.</summary>
    private async Task RetryTickAsync()
    {
        await _h.Provider.GetRequiredService<MigModeMonitor>().RefreshAsync(null, CancellationToken.None);
        var scrub = _h.Provider.GetRequiredService<DeviceScrub>();
        var snapshot = _h.Inventory.Snapshot();
        foreach (var device in snapshot.Devices.Where(d => d.State is DeviceState.Dirty or DeviceState.Unknown && !d.Withdrawals.ContainsKey(WithdrawalReason.MigModeEnabled)))
        {
            await scrub.TryRunAsync(device.Device, claimUid: null, ScrubTrigger.Retry, CancellationToken.None);
        }

        foreach (var placement in snapshot.Partitions.SelectMany(p => p.Placements).Where(p => p.State == DeviceState.Dirty))
        {
            await scrub.TryRunPlacementAsync(placement.Name, claimUid: null, ScrubTrigger.Retry, CancellationToken.None);
        }
    }

    private async Task MigToggleAsync()
    {
        if (_kubelet.Count > 0)
        {
            return; // MIG mode changes need a GPU reset: only on a node drained of GPU pods
        }

        await StopPublisherAsync();
        await _h.StopAsync();
        var on = !Partitioned();
        await SetMigModeAsync(on);
        await RestartAsync();
        if (on)
        {
            Seen.MigOn++;
        }
        else
        {
            Seen.MigOff++;
        }
    }

    /// <summary>nvidia-smi -mig 1 and the administrator's instances; or every instance destroyed and nvidia-smi -mig 0. The memory keeps its bytes.</summary>
    private async Task SetMigModeAsync(bool on)
    {
        if (!on)
        {
            foreach (var instance in await _sim.GetInstancesAsync(_parent, CancellationToken.None))
            {
                foreach (var ci in instance.ComputeInstances)
                {
                    await _sim.DestroyComputeInstanceAsync(_parent, instance.GpuInstanceId, ci.Id, CancellationToken.None);
                }

                await _sim.DestroyGpuInstanceAsync(_parent, instance.GpuInstanceId, CancellationToken.None);
            }
        }

        _h.Backend.MigMode["gpu-0"] = on;
        WriteFaults(on);
        if (on)
        {
            var minors = new List<string> { "config 1", "monitor 2" };
            var next = 10;
            foreach (var (profile, placement) in Layout)
            {
                var gi = await _sim.CreateGpuInstanceAsync(_parent, profile, placement, CancellationToken.None);
                await _sim.CreateComputeInstanceAsync(_parent, gi.GpuInstanceId, CancellationToken.None);
                minors.Add($"gpu0/gi{gi.GpuInstanceId}/access {next++}");
                minors.Add($"gpu0/gi{gi.GpuInstanceId}/ci0/access {next++}");
            }

            await File.WriteAllTextAsync(MinorsPath, string.Join('\n', minors) + "\n");
        }
    }

    private void WriteFaults(bool? migOn = null) =>
        SimulatedFaultFile.Write(_dir, "gpu-0", new SimulatedFaults { MigEnabled = migOn ?? Partitioned(), MigFailVerifySlice = _stuckSlice });

    // ------------------------------------------------------------------ the plugin process

    private async Task StopPublisherAsync()
    {
        try
        {
            await _h.Publisher.StopAsync(CancellationToken.None);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task RestartAsync()
    {
        await StopPublisherAsync();
        await _h.RestartAsync();
        await _h.Publisher.StartAsync(CancellationToken.None);
    }

    private void SnapshotDisk() => _crashSnapshot = PipelineDiskSnapshot.Take(_h);

    /// <summary>After a call that hit the armed crash point: the disk as it was at that instant, GPU memory as it is now, and a new process.</summary>
    private async Task<bool> RecoverFromCrashAsync()
    {
        if (_crashSnapshot is not { } snapshot)
        {
            return false;
        }

        _crashSnapshot = null;
        Seen.Crashes++;
        await StopPublisherAsync();
        await _h.StopAsync();
        await snapshot.RestoreAsync(_h);

        await RestartAsync();
        return true;
    }

    // ------------------------------------------------------------------ model helpers

    private bool Partitioned() => _h.Backend.MigMode.TryGetValue("gpu-0", out var on) && on;

    /// <summary>What the scheduler can see on gpu-0 now: its instances while partitioned, the whole GPU otherwise.</summary>
    private List<string> DeviceNames()
    {
        var partitions = _h.Inventory.Snapshot().Partitions;
        return partitions.Count > 0 ? [.. partitions.Single().Placements.Select(p => p.Name).Order(StringComparer.Ordinal)] : ["gpu-0"];
    }

    private bool IsOffered(string device) =>
        _h.Inventory.IsPlacement(device) ? _h.Inventory.GetPlacement(device) is { IsOffered: true } : _h.Inventory.Get(device) is { IsOffered: true };

    private (long Offset, long Length, int FirstSlice, int Slices) Range(string device)
    {
        if (_h.Inventory.FindPlacement(device) is { } p)
        {
            var (offset, length) = _sim.ByteRange(p.Placement);
            return (offset, length, p.Placement.Start, p.Placement.Size);
        }

        return (0, Memory, 0, MigPlacement.MemorySliceCount);
    }

    private IEnumerable<int> Running() => _kubelet.Where(k => k.Value == KubeletClaim.Running).Select(k => k.Key).Order().ToList();

    private void WriteCanary(int claim)
    {
        var (offset, length, _, _) = Range(_kubeletDevice[claim]);
        using var file = new FileStream(SimVram, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        file.Position = offset;
        var bytes = new byte[length];
        Array.Fill(bytes, Canary(claim));
        file.Write(bytes);
    }

    private byte[] Read(string device)
    {
        var (offset, length, _, _) = Range(device);
        using var file = new FileStream(SimVram, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        file.Position = offset;
        var bytes = new byte[length];
        file.ReadExactly(bytes);
        return bytes;
    }

    private void AssertOnlyOwnOrZero(int claim, string who)
    {
        var foreign = Read(_kubeletDevice[claim]).FirstOrDefault(b => b != 0 && b != Canary(claim));
        Require(foreign == 0, $"{who} of tenant {claim} on {_kubeletDevice[claim]} reads tenant {foreign - 0x40}'s canary");
    }

    private void Check()
    {
        var onDisk = new CheckpointFile(_h.DataDir, "checkpoint.json", 1 << 20).ReadAsync(CancellationToken.None).GetAwaiter().GetResult();
        var record = onDisk?.Devices?.GetValueOrDefault("gpu-0");
        foreach (var device in DeviceNames().Where(IsOffered))
        {
            var (_, _, first, count) = Range(device);
            Require(record is not null && record.Uuid == _h.Backend.Devices[0].Uuid, $"{device} is offered without a durable record of gpu-0");
            if (_h.Inventory.IsPlacement(device))
            {
                // No memorySlices: the GPU's own record speaks for every slice (a checkpoint from before it was partitioned).
                Require(record!.MemorySlices is { Count: MigPlacement.MemorySliceCount } slices
                        ? Enumerable.Range(first, count).All(s => slices[s].State == DurableDeviceState.Clean)
                        : record.MemorySlices is null && record.State == DurableDeviceState.Clean,
                    $"{device} is offered but its memory slices {first}..{first + count - 1} are not durably Clean");
            }
            else
            {
                Require(record!.State == DurableDeviceState.Clean && (record.MemorySlices ?? []).All(s => s.State == DurableDeviceState.Clean),
                    $"the whole gpu-0 is offered but the checkpoint says {record.State} with slices [{string.Join(",", (record.MemorySlices ?? []).Select(s => s.State))}]");
            }

            Require(Read(device).All(b => b == 0), $"{device} is offered but its memory is not zero");
        }

        foreach (var c in Running())
        {
            var entry = _h.Journal.Get(TestClaims.Uid(c));
            Require(entry?.State == ClaimCheckpointState.Prepared, $"claim {c} is prepared in the kubelet but {entry?.State.ToString() ?? "gone"} in the plugin");
            var bytes = Read(_kubeletDevice[c]);
            Require(bytes.All(b => b == Canary(c)), $"tenant {c}'s memory on {_kubeletDevice[c]} changed under its running container ({bytes.Count(b => b != Canary(c))} bytes are no longer its canary)");
        }
    }

    private void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new LifecycleViolation($"step {_step} {_op}: {what}");
        }
    }

    private static byte Canary(int claim) => (byte)(0x40 + claim);

    /// <summary>Mutation: the per-instance scrub removed, the release still reported clean.</summary>
    private sealed class SkippingScrubber : IMigInstanceScrubber
    {
        public Task<MigScrubResult> ScrubAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, CancellationToken cancellationToken) =>
            Task.FromResult(new MigScrubResult(parent.Name, instance.GpuInstanceId, instance.Uuid!, true, true, instance.MemoryBytes, instance.MemoryBytes, 1, TimeSpan.Zero, "skipped", null));
    }

    /// <summary>Mutation: a scrub that zeroes the whole GPU instead of its instance.</summary>
    private sealed class OverreachingScrubber(string vram) : IMigInstanceScrubber
    {
        public async Task<MigScrubResult> ScrubAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, CancellationToken cancellationToken)
        {
            await File.WriteAllBytesAsync(vram, new byte[Memory], cancellationToken);
            return new MigScrubResult(parent.Name, instance.GpuInstanceId, instance.Uuid!, true, true, instance.MemoryBytes, instance.MemoryBytes, 1, TimeSpan.Zero, "whole-gpu", null);
        }
    }
}
