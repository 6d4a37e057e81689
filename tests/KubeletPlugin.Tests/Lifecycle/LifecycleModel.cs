using Microsoft.Extensions.DependencyInjection;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Tests.Lifecycle;

/// <summary>
/// Drives the real pipeline (real checkpoint and CDI files, fake GPUs whose memory is a file)
/// through one generated sequence of <see cref="LifecycleOp"/>, keeping a reference model of
/// what the kubelet, the scheduler and the tenants' containers believe, and checks after every
/// step (docs/isolation.md, "Lifecycle model"):
/// <list type="number">
/// <item>no tenant's canary is readable through another tenant's prepared claim;</item>
/// <item>no offered device lacks durable proof of a verified scrub, and its memory is zero;</item>
/// <item>start-up succeeds, or fails with the corrupt-checkpoint error whose advice, followed, leaks nothing;</item>
/// <item>every claim the kubelet prepared stays prepared until the kubelet unprepares it.</item>
/// </list>
/// A failed check throws <see cref="LifecycleViolation"/> naming the step.
/// </summary>
public sealed class LifecycleModel : IAsyncDisposable
{
    private static readonly string[] PrepareCrashPoints = [CrashPoints.PrepareAfterCheckpointStarted, CrashPoints.PrepareAfterCdi, CrashPoints.PrepareAfterCheckpointPrepared];

    private static readonly string[] UnprepareCrashPoints =
    [
        CrashPoints.UnprepareAfterCheckpointStarted, CrashPoints.UnprepareAfterScrub, CrashPoints.UnprepareAfterCdiDelete, CrashPoints.UnprepareAfterCheckpointDone,
    ];

    private readonly PipelineHarness _h;

    /// <summary>Claims that exist on the API server, with the devices allocated to them.</summary>
    private readonly Dictionary<int, string[]> _api = [];

    /// <summary>Claims the kubelet has, and where each stands.</summary>
    private readonly Dictionary<int, KubeletClaim> _kubelet = [];

    private readonly Dictionary<int, string[]> _kubeletDevices = [];
    private int _nextClaim;
    private int _step;
    private string _op = "";
    private PipelineDiskSnapshot? _crashSnapshot;

    private LifecycleModel(PipelineHarness h) => _h = h;

    public static async Task<LifecycleModel> StartAsync()
    {
        // Real files, on tmpfs where there is one: a sequence fsyncs the checkpoint dozens of times.
        var h = PipelineHarness.Create(LifecycleOp.Devices, provenClean: false, parentDirectory: Directory.Exists("/dev/shm") ? "/dev/shm" : null);
        var model = new LifecycleModel(h);
        h.Crash.OnFail = _ => model.SnapshotDisk();
        await model.StartPluginAsync();
        return model;
    }

    public async Task RunAsync(IReadOnlyList<LifecycleOp> ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        Check(); // first install: every device scrubbed before it is offered
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
    }

    // ------------------------------------------------------------------ operations

    private async Task ApplyAsync(LifecycleOp op)
    {
        switch (op.Kind)
        {
            case LifecycleOpKind.Prepare:
                await PrepareAsync(op, crashAt: null);
                break;
            case LifecycleOpKind.RepeatPrepare:
                await RepeatPrepareAsync(op);
                break;
            case LifecycleOpKind.Unprepare:
                await UnprepareAsync(op, crashAt: null);
                break;
            case LifecycleOpKind.ContainersWrite:
                ContainersWrite();
                break;
            case LifecycleOpKind.DeleteClaim:
                if (_api.Keys.Order().ToList() is { Count: > 0 } existing)
                {
                    var c = existing[op.A % existing.Count];
                    _api.Remove(c);
                    _h.Api.RemoveClaim("tenant", $"claim-{c}");
                }

                break;
            case LifecycleOpKind.ReaperTick:
                await _h.Provider.GetRequiredService<StaleClaimReaper>().ReapOnceAsync(CancellationToken.None);
                break;
            case LifecycleOpKind.ScrubFault:
                ScrubFault(op);
                break;
            case LifecycleOpKind.RetryTick:
                await RetryTickAsync();
                break;
            case LifecycleOpKind.Crash:
                await CrashAsync(op);
                break;
            case LifecycleOpKind.Restart:
                await RestartAsync(expectCorrupt: false);
                break;
            case LifecycleOpKind.CorruptCheckpoint:
                await CorruptAndRecoverAsync();
                break;
            case LifecycleOpKind.WipeCheckpoint:
                await WipeOnDrainedNodeAsync();
                break;
            case LifecycleOpKind.Health:
                if (op.A % 2 == 1)
                {
                    _h.Inventory.Withdraw(Device(op.X), WithdrawalReason.Unhealthy, "Xid 79");
                }
                else
                {
                    _h.Inventory.Return(Device(op.X), WithdrawalReason.Unhealthy);
                }

                break;
            case LifecycleOpKind.MigToggle:
                _h.Backend.MigMode[Device(op.X)] = !(_h.Backend.MigMode.TryGetValue(Device(op.X), out var on) && on);
                await _h.Provider.GetRequiredService<MigModeMonitor>().RefreshAsync(null, CancellationToken.None);
                break;
        }
    }

    private async Task PrepareAsync(LifecycleOp op, string? crashAt)
    {
        var batch = new List<int>();
        if (op.B == 2 && _kubelet.Where(k => k.Value == KubeletClaim.PrepareFailed).Select(k => k.Key).Order().FirstOrDefault() is > 0 and var retry)
        {
            batch.Add(retry); // the kubelet retries a Prepare that failed
        }
        else if (NewAllocation([Device(op.X), Device(op.Y)]) is { } first)
        {
            batch.Add(first);
            if (op.B == 1 && NewAllocation([Device(op.Y)]) is { } second)
            {
                batch.Add(second);
            }
        }

        if (batch.Count == 0)
        {
            return;
        }

        foreach (var c in batch)
        {
            _kubelet[c] = KubeletClaim.PrepareFailed; // until the answer says otherwise
            _kubeletDevices[c] = _api.GetValueOrDefault(c) ?? _kubeletDevices[c];
        }

        _h.Crash.FailAt = crashAt;
        var results = await _h.Pipeline.PrepareAsync([.. batch.Select(Ref)], CancellationToken.None);
        _h.Crash.FailAt = null;
        if (await RecoverFromCrashAsync())
        {
            return; // the kubelet saw the call fail for every claim in it
        }

        foreach (var c in batch)
        {
            if (results[TestClaims.Uid(c)].Error is null)
            {
                // The tenant's container starts: it must read nothing of another tenant's, then writes its own secret.
                foreach (var device in _kubeletDevices[c])
                {
                    AssertOnlyOwnOrZero(c, device, "a freshly prepared claim");
                }

                _kubelet[c] = KubeletClaim.Running;
                WriteCanary(c);
            }
        }
    }

    private async Task RepeatPrepareAsync(LifecycleOp op)
    {
        var running = _kubelet.Where(k => k.Value == KubeletClaim.Running).Select(k => k.Key).Order().ToList();
        if (running.Count == 0)
        {
            return;
        }

        var c = running[op.A % running.Count];
        var result = await _h.Pipeline.PrepareAsync([Ref(c)], CancellationToken.None);
        Require(result[TestClaims.Uid(c)].Error is null, $"repeated Prepare of prepared claim {c} failed: {result[TestClaims.Uid(c)].Error}");
    }

    private async Task UnprepareAsync(LifecycleOp op, string? crashAt)
    {
        var held = _kubelet.Keys.Order().ToList();
        if (held.Count == 0)
        {
            return;
        }

        var batch = new List<int> { held[op.A % held.Count] };
        if (op.B > 0 && held.Count > 1)
        {
            batch.Add(held[(op.A + 1) % held.Count]);
        }

        foreach (var c in batch)
        {
            _kubelet[c] = KubeletClaim.Unpreparing; // the kubelet stops the containers before it unprepares
        }

        _h.Crash.FailAt = crashAt;
        IReadOnlyDictionary<string, ClaimUnprepareResult> results;
        if (op.B == 2 && batch.Count == 2)
        {
            var both = await Task.WhenAll(batch.Select(c => _h.Pipeline.UnprepareAsync([Ref(c)], CancellationToken.None)));
            results = both.SelectMany(r => r).ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
        }
        else
        {
            results = await _h.Pipeline.UnprepareAsync([.. batch.Select(Ref)], CancellationToken.None);
        }

        _h.Crash.FailAt = null;
        if (await RecoverFromCrashAsync())
        {
            return;
        }

        foreach (var c in batch.Where(c => results[TestClaims.Uid(c)].Error is null))
        {
            // Done: the kubelet forgets it and the resource-claim controller deallocates it.
            _kubelet.Remove(c);
            _kubeletDevices.Remove(c);
            _api.Remove(c);
            _h.Api.RemoveClaim("tenant", $"claim-{c}");
        }
    }

    private void ScrubFault(LifecycleOp op)
    {
        switch (op.A % 4)
        {
            case 0:
                _h.Scrubber.Plan(Device(op.X), ScrubBehavior.NotVerified);
                break;
            case 1:
                _h.Scrubber.Plan(Device(op.X), ScrubBehavior.Throw);
                break;
            case 2:
                _h.Scrubber.Plan(Device(op.X), ScrubBehavior.Refuse);
                break;
            default:
                _h.Scrubber.Delay = _h.Scrubber.Delay == TimeSpan.Zero ? TimeSpan.FromMilliseconds(2) : TimeSpan.Zero;
                break;
        }
    }

    /// <summary>What one pass of the retry loop does, without its real-time backoff.</summary>
    private async Task RetryTickAsync()
    {
        await _h.Provider.GetRequiredService<MigModeMonitor>().RefreshAsync(null, CancellationToken.None);
        var scrub = _h.Provider.GetRequiredService<DeviceScrub>();
        foreach (var device in _h.Inventory.Snapshot().Devices.Where(d => d.State is DeviceState.Dirty or DeviceState.Unknown && !d.Withdrawals.ContainsKey(WithdrawalReason.MigModeEnabled)))
        {
            await scrub.TryRunAsync(device.Device, claimUid: null, ScrubTrigger.Retry, CancellationToken.None);
        }
    }

    private async Task CrashAsync(LifecycleOp op)
    {
        if (op.A < PrepareCrashPoints.Length)
        {
            await PrepareAsync(op with { B = op.B % 2 }, PrepareCrashPoints[op.A]);
        }
        else
        {
            await UnprepareAsync(op, UnprepareCrashPoints[(op.A - PrepareCrashPoints.Length) % UnprepareCrashPoints.Length]);
        }
    }

    private async Task CorruptAndRecoverAsync()
    {
        await File.WriteAllTextAsync(_h.CheckpointPath, "SECUREDRA-CHECKPOINT 1 sha256=00 bytes=3\n{x}");
        await RestartAsync(expectCorrupt: true);

        // The advice: drain (every pod of this driver goes: containers stop, the kubelet keeps asking to unprepare),
        // move the file aside, restart. Then the kubelet's pending Unprepares must succeed.
        foreach (var c in _kubelet.Keys.ToList())
        {
            _kubelet[c] = KubeletClaim.Unpreparing;
        }

        File.Move(_h.CheckpointPath, _h.CheckpointPath + ".bad", overwrite: true);
        await RestartAsync(expectCorrupt: false);
        await UnprepareEverythingAsync();
    }

    private async Task WipeOnDrainedNodeAsync()
    {
        foreach (var c in _kubelet.Keys.ToList())
        {
            _kubelet[c] = KubeletClaim.Unpreparing;
        }

        await UnprepareEverythingAsync();
        if (_kubelet.Count > 0)
        {
            return; // not drained (an Unprepare failed): an operator would not wipe it now
        }

        if (Directory.Exists(_h.DataDir))
        {
            Directory.Delete(_h.DataDir, recursive: true);
        }

        await RestartAsync(expectCorrupt: false);
    }

    private async Task UnprepareEverythingAsync()
    {
        foreach (var c in _kubelet.Keys.Order().ToList())
        {
            var result = await _h.Pipeline.UnprepareAsync([Ref(c)], CancellationToken.None);
            if (result[TestClaims.Uid(c)].Error is null)
            {
                _kubelet.Remove(c);
                _kubeletDevices.Remove(c);
                _api.Remove(c);
                _h.Api.RemoveClaim("tenant", $"claim-{c}");
            }
        }
    }

    // ------------------------------------------------------------------ the plugin process

    private async Task StartPluginAsync()
    {
        await _h.StartAsync();
        await _h.Publisher.StartAsync(CancellationToken.None);
    }

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

    private async Task RestartAsync(bool expectCorrupt)
    {
        await StopPublisherAsync();
        try
        {
            await _h.RestartAsync();
            Require(!expectCorrupt, "start-up accepted a corrupt checkpoint");
        }
        catch (CheckpointCorruptException ex)
        {
            Require(expectCorrupt, "start-up refused a checkpoint the plugin wrote itself: " + ex.Message);
            Require(ex.Message.Contains($"mv {_h.CheckpointPath} {_h.CheckpointPath}.bad", StringComparison.Ordinal), "the corrupt-checkpoint error gives no recovery");
            return;
        }

        await _h.Publisher.StartAsync(CancellationToken.None);
    }

    private void SnapshotDisk() => _crashSnapshot = PipelineDiskSnapshot.Take(_h);

    /// <summary>After a call that hit the armed crash point: put the disk back as it was at that instant and start again from it.</summary>
    private async Task<bool> RecoverFromCrashAsync()
    {
        if (_crashSnapshot is not { } snapshot)
        {
            return false;
        }

        _crashSnapshot = null;
        await StopPublisherAsync();
        await _h.StopAsync();
        await snapshot.RestoreAsync(_h);

        await RestartAsync(expectCorrupt: false);
        return true;
    }

    // ------------------------------------------------------------------ model helpers

    /// <summary>Allocates a new claim on the devices if the scheduler can (no other allocated claim holds them); null otherwise.</summary>
    private int? NewAllocation(string[] devices)
    {
        devices = [.. devices.Distinct(StringComparer.Ordinal)];
        if (devices.Any(d => _api.Values.Any(a => a.Contains(d))))
        {
            return null;
        }

        // A withdrawn device is not in the slice (or tainted): the scheduler does not pick it.
        if (devices.Any(d => _h.Inventory.Get(d) is not { IsOffered: true }))
        {
            return null;
        }

        var claim = ++_nextClaim;
        _api[claim] = devices;
        _h.Api.PutClaim(TestClaims.Allocated(claim, devices));
        return claim;
    }

    private void ContainersWrite()
    {
        foreach (var c in _kubelet.Where(k => k.Value == KubeletClaim.Running).Select(k => k.Key))
        {
            WriteCanary(c);
        }

        foreach (var c in _kubelet.Where(k => k.Value == KubeletClaim.Running).Select(k => k.Key))
        {
            foreach (var device in _kubeletDevices[c])
            {
                AssertOnlyOwnOrZero(c, device, "a running container");
            }
        }
    }

    private void WriteCanary(int claim)
    {
        foreach (var device in _kubeletDevices[claim])
        {
            var bytes = new byte[FakeGpuBackend.VramBytes];
            Array.Fill(bytes, Canary(claim));
            _h.Backend.WriteVram(device, bytes);
        }
    }

    private void Check()
    {
        if (!_h.Startup.EnsureStartedAsync(CancellationToken.None).IsCompletedSuccessfully)
        {
            return;
        }

        var onDisk = new CheckpointFile(_h.DataDir, "checkpoint.json", 1 << 20).ReadAsync(CancellationToken.None).GetAwaiter().GetResult();
        foreach (var device in _h.Inventory.Snapshot().Devices)
        {
            if (device.IsOffered)
            {
                var record = onDisk?.Devices?.GetValueOrDefault(device.Name);
                Require(record is { State: DurableDeviceState.Clean } && record.Uuid == device.Device.Uuid, $"{device.Name} is offered without a durable Clean record");
                Require(Vram(device.Name).All(b => b == 0), $"{device.Name} is offered but its memory is not zero");
            }
        }

        foreach (var c in _kubelet.Where(k => k.Value == KubeletClaim.Running).Select(k => k.Key))
        {
            var entry = _h.Journal.Get(TestClaims.Uid(c));
            Require(entry?.State == ClaimCheckpointState.Prepared, $"claim {c} is prepared in the kubelet but {entry?.State.ToString() ?? "gone"} in the plugin");
            foreach (var device in _kubeletDevices[c])
            {
                var state = _h.Inventory.Get(device)!;
                Require(state.State == DeviceState.Prepared && state.ClaimUid == TestClaims.Uid(c), $"claim {c} is prepared in the kubelet but {device} is {state.State} ({state.ClaimUid})");
            }
        }
    }

    private void AssertOnlyOwnOrZero(int claim, string device, string who)
    {
        var foreign = Vram(device).FirstOrDefault(b => b != 0 && b != Canary(claim));
        Require(foreign == 0, $"{who} of tenant {claim} reads tenant {foreign - 0x40}'s canary on {device}");
    }

    private byte[] Vram(string device) => File.Exists(_h.Backend.VramPath(device)) ? File.ReadAllBytes(_h.Backend.VramPath(device)) : [];

    private void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new LifecycleViolation($"step {_step} {_op}: {what}");
        }
    }

    private static byte Canary(int claim) => (byte)(0x40 + claim);

    private static string Device(int x) => $"gpu-{x % LifecycleOp.Devices}";

    private static ClaimRef Ref(int claim) => TestClaims.Ref(claim);
}

public sealed class LifecycleViolation(string message) : Exception(message);

/// <summary>A claim as the kubelet sees it.</summary>
internal enum KubeletClaim
{
    /// <summary>Prepare answered OK; the container runs and writes its tenant's data.</summary>
    Running,

    /// <summary>Prepare failed (or the call died with the plugin); the kubelet retries it or unprepares it later.</summary>
    PrepareFailed,

    /// <summary>The container stopped and Unprepare was sent; the kubelet retries until it gets OK.</summary>
    Unpreparing,
}
