using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;

using SecureDra.Nvml.Backends.Mig;
using SecureDra.Observability.Changes;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// The one owner of each device's state (<see cref="DeviceState"/>, docs/isolation.md): the only
/// code that moves a device to <see cref="DeviceState.Clean"/> (offered) and the only writer of the
/// checkpoint's device records. Invariant: a device is offered only with durable proof of a
/// verified scrub since its last use. Every change bumps <see cref="Version"/> and wakes
/// <see cref="WaitForChangeAsync"/>, which the slice publisher consumes. Thread-safe: one lock, no
/// I/O under it (journal mutations are in memory; <see cref="CompleteScrubAsync"/> commits outside
/// the lock). A device is never held by two claims.
/// </summary>
public sealed class DeviceInventory(ClaimJournal journal)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PlacementRef> _placements = new(StringComparer.Ordinal);
    private List<string> _order = [];
    private long _version;
    private bool _initialized;
    private readonly ChangeSignal _changed = new();

    /// <summary>Bumped on every change; starts at 0 before <see cref="Initialize"/>.</summary>
    public long Version
    {
        get { lock (_lock) { return _version; } }
    }

    public bool IsInitialized
    {
        get { lock (_lock) { return _initialized; } }
    }

    /// <summary>Sets the node's devices once, all <see cref="DeviceState.Unknown"/>; <see cref="Restore"/> then applies the checkpoint.</summary>
    public void Initialize(IReadOnlyList<GpuDevice> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        lock (_lock)
        {
            if (_initialized)
            {
                throw new InvalidOperationException("the device inventory is already initialized");
            }

            foreach (var device in devices)
            {
                if (!_devices.TryAdd(device.Name, new Entry(device)))
                {
                    throw new InvalidOperationException($"the GPU backend reported device name {device.Name} twice");
                }
            }

            _order = [.. devices.OrderBy(d => d.Index).Select(d => d.Name)];
            _initialized = true;
            BumpLocked();
        }
    }

    /// <summary>
    /// Publishes GPU <paramref name="gpuName"/> as MIG placements (dynamic mode): every placement of
    /// every profile becomes a device backed by the GPU's 8 memory slices (docs/isolation.md,
    /// "Memory slices"). Once, after <see cref="Initialize"/> and before <see cref="Restore"/>.
    /// </summary>
    public void ConfigurePartitions(string gpuName, IReadOnlyList<MigProfile> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        lock (_lock)
        {
            var e = _devices.TryGetValue(gpuName, out var found) ? found : throw new KeyNotFoundException($"device {gpuName} does not exist on this node");
            if (e.Slices is not null)
            {
                throw new InvalidOperationException($"device {gpuName} is already partitioned");
            }

            var refs = new List<(string Name, PlacementRef Ref)>();
            foreach (var profile in profiles)
            {
                foreach (var placement in profile.Placements)
                {
                    if (placement.Start < 0 || placement.Size < 1 || placement.End > MigDeviceNames.MemorySlices)
                    {
                        throw new ArgumentException($"profile {profile.Name} placement {placement.Start}+{placement.Size} is outside the GPU's {MigDeviceNames.MemorySlices} memory slices", nameof(profiles));
                    }

                    var name = MigDeviceNames.Placement(e.Device.Minor, profile, placement);
                    if (_devices.ContainsKey(name) || _placements.ContainsKey(name) || refs.Any(r => r.Name == name))
                    {
                        throw new InvalidOperationException($"placement device name {name} is not unique on this node");
                    }

                    refs.Add((name, new PlacementRef(gpuName, profile, placement)));
                }
            }

            e.Slices = new MemorySliceMap();
            e.Profiles = [.. profiles];
            foreach (var (name, r) in refs)
            {
                _placements.Add(name, r);
            }

            BumpLocked();
        }
    }

    /// <summary>True when <paramref name="deviceName"/> is a MIG placement of a partitioned GPU.</summary>
    public bool IsPlacement(string deviceName)
    {
        lock (_lock)
        {
            return _placements.ContainsKey(deviceName);
        }
    }

    /// <summary>The placement behind a device name, with its parent GPU; null when it is not one.</summary>
    public (GpuDevice Parent, MigProfile Profile, MigPlacement Placement)? FindPlacement(string deviceName)
    {
        lock (_lock)
        {
            return _placements.TryGetValue(deviceName, out var r) ? (_devices[r.Gpu].Device, r.Profile, r.Placement) : null;
        }
    }

    public GpuDevice? Find(string deviceName)
    {
        lock (_lock)
        {
            return _devices.TryGetValue(deviceName, out var e) ? e.Device : null;
        }
    }

    public InventorySnapshot Snapshot()
    {
        lock (_lock)
        {
            return new InventorySnapshot(_version, [.. _order.Select(n => _devices[n].ToSnapshot())])
            {
                Partitions = [.. _order.Select(n => _devices[n]).Where(e => e.Slices is not null).Select(PartitionLocked)],
            };
        }
    }

    /// <summary>
    /// The memory state of a whole GPU or of a placement (from the slices it covers, as <see cref="Snapshot"/> reports
    /// it); null for a name this node does not have.
    /// </summary>
    public DeviceState? MemoryState(string deviceName)
    {
        lock (_lock)
        {
            if (_placements.TryGetValue(deviceName, out var placement))
            {
                var gpu = _devices[placement.Gpu];
                return PartitionLocked(gpu).Placements.First(p => p.Name == deviceName).State;
            }

            return _devices.TryGetValue(deviceName, out var e) ? e.State : null;
        }
    }

    /// <summary>A placement's state (its slices' state and holder, its withdrawals); null when the name is not a placement.</summary>
    public PlacementStateSnapshot? GetPlacement(string deviceName)
    {
        lock (_lock)
        {
            return _placements.TryGetValue(deviceName, out var placement)
                ? PartitionLocked(_devices[placement.Gpu]).Placements.First(p => p.Name == deviceName)
                : null;
        }
    }

    public DeviceStateSnapshot? Get(string deviceName)
    {
        lock (_lock)
        {
            return _devices.TryGetValue(deviceName, out var e) ? e.ToSnapshot() : null;
        }
    }

    /// <summary>
    /// Start-up: each device's state from the checkpoint (docs/isolation.md, "Start-up"). A device
    /// record gives the state; a claim's own evidence can only make a device dirtier; a Prepared
    /// claim that stays prepared holds its devices again. Devices without proof stay Unknown and
    /// must be scrubbed before they are offered. Throws <see cref="DeviceReservationException"/>
    /// when two prepared claims hold one device (the plugin never writes that). In memory only:
    /// the caller loads the journal, then calls <see cref="RecordAll"/> and commits.
    /// </summary>
    /// <param name="keptPrepared">Claims that stay prepared (not voided by a reboot).</param>
    public void Restore(
        IReadOnlyDictionary<string, CheckpointDeviceRecord>? records,
        IReadOnlyDictionary<string, CheckpointClaim> claims,
        IReadOnlySet<string> keptPrepared,
        bool rebooted)
    {
        ArgumentNullException.ThrowIfNull(claims);
        ArgumentNullException.ThrowIfNull(keptPrepared);
        lock (_lock)
        {
            bool Kept(string uid) => keptPrepared.Contains(uid) && claims.TryGetValue(uid, out var c) && c.State == ClaimCheckpointState.Prepared;
            foreach (var e in _devices.Values)
            {
                RestoreRecordLocked(e, records?.GetValueOrDefault(e.Device.Name), rebooted, Kept);
            }

            foreach (var (uid, claim) in claims)
            {
                switch (claim.State)
                {
                    case ClaimCheckpointState.Prepared when !keptPrepared.Contains(uid):
                        MarkDirtyLocked(claim.Devices.Select(d => d.Name), WithdrawalReason.VramDirty, $"held by claim {uid} before the node rebooted");
                        break;
                    case ClaimCheckpointState.UnprepareStarted:
                        MarkDirtyLocked(claim.Devices.Select(d => d.Name), WithdrawalReason.VramDirty, $"release of claim {uid} was interrupted");
                        break;
                    case ClaimCheckpointState.ScrubFailed:
                        MarkDirtyLocked(claim.DirtyDevices ?? [], WithdrawalReason.ScrubFailed, $"scrub after claim {uid} did not verify");
                        break;
                    case ClaimCheckpointState.PrepareStarted when claim.Devices.Any(d => d.MigInstance is not null):
                        // Dynamic MIG: the create may have happened; whatever instance is there is scrubbed, then destroyed.
                        MarkDirtyLocked(claim.Devices.Where(d => d.MigInstance is not null).Select(d => d.Name), WithdrawalReason.VramDirty, $"prepare of claim {uid} was creating a MIG instance here when it was interrupted");
                        break;
                }
            }

            // A claim still prepared was reserved while its devices were clean, so whatever an earlier
            // claim's entry says about them happened before (the release window of issue 10 item 4).
            foreach (var (uid, claim) in claims.Where(c => c.Value.State == ClaimCheckpointState.Prepared && keptPrepared.Contains(c.Key)))
            {
                foreach (var name in claim.Devices.Select(d => d.Name))
                {
                    if (_placements.TryGetValue(name, out var placement))
                    {
                        var slices = _devices[placement.Gpu].Slices!;
                        if (slices.HeldBy(placement.Placement, uid, null, MemorySliceState.Prepared))
                        {
                            slices.Set(placement.Placement, MemorySliceState.Prepared, uid, name); // bind the slices to the device again
                        }
                        else
                        {
                            if (slices.Holder(placement.Placement) is { } other && other != uid)
                            {
                                throw new DeviceReservationException($"device {name} overlaps memory slices held by another claim ({other})");
                            }

                            // Prepared but its slices were not recorded (a checkpoint from before the
                            // slice record was written): its tenant may have used them.
                            slices.SetDirty(placement.Placement, WithdrawalReason.VramDirty, $"held by claim {uid} without a memory slice record");
                        }

                        continue;
                    }

                    if (!_devices.TryGetValue(name, out var e))
                    {
                        continue;
                    }

                    if (e.State == DeviceState.Prepared && e.ClaimUid != uid)
                    {
                        throw new DeviceReservationException($"device {name} is held by another claim ({e.ClaimUid})");
                    }

                    e.State = DeviceState.Prepared;
                    e.ClaimUid = uid;
                }
            }

            BumpLocked();
        }
    }

    /// <summary>Writes every device's record into the journal (after <see cref="ClaimJournal.Load"/> at start-up); the caller commits.</summary>
    public void RecordAll()
    {
        lock (_lock)
        {
            foreach (var e in _devices.Values)
            {
                WriteRecordLocked(e);
            }
        }
    }

    /// <summary>Names of devices in <paramref name="state"/>.</summary>
    public IReadOnlyList<string> InState(DeviceState state)
    {
        lock (_lock)
        {
            return [.. _order.Where(n => _devices[n].State == state)];
        }
    }

    /// <summary>
    /// Atomically hands all <paramref name="deviceNames"/> to <paramref name="claimUid"/> (Clean →
    /// Reserved), or none of them. Devices already held by this same claim are accepted (idempotent
    /// prepare). Durable as Clean: nothing reached the kubelet yet.
    /// </summary>
    public void Reserve(string claimUid, IReadOnlyCollection<string> deviceNames)
    {
        ArgumentNullException.ThrowIfNull(deviceNames);
        lock (_lock)
        {
            CheckNoOverlapLocked(deviceNames);
            foreach (var name in deviceNames)
            {
                if (_placements.TryGetValue(name, out var placement))
                {
                    CheckPlacementReservableLocked(claimUid, name, placement);
                    continue;
                }

                if (!_devices.TryGetValue(name, out var e))
                {
                    throw new DeviceReservationException($"device {name} does not exist on this node");
                }

                if (e.Slices is { AllClean: false } && !(e.State is DeviceState.Reserved or DeviceState.Prepared && e.ClaimUid == claimUid))
                {
                    throw new DeviceReservationException($"device {name} has memory slices held by MIG instances or dirty; it is offered again when every slice is clean");
                }

                var withdrawals = e.Withdrawals();
                if (withdrawals.Count > 0)
                {
                    throw new DeviceReservationException($"device {name} is withdrawn from scheduling ({Describe(withdrawals)}); it returns after a verified scrub");
                }

                switch (e.State)
                {
                    case DeviceState.Reserved or DeviceState.Prepared when e.ClaimUid == claimUid:
                    case DeviceState.Clean:
                        break;
                    case DeviceState.Reserved or DeviceState.Prepared or DeviceState.Releasing:
                        throw new DeviceReservationException($"device {name} is prepared for another claim ({e.ClaimUid})");
                    default:
                        throw new DeviceReservationException($"device {name} is being scrubbed; try again when the scrub has finished");
                }
            }

            var changed = false;
            foreach (var name in deviceNames.Where(_placements.ContainsKey))
            {
                var placement = _placements[name];
                var slices = _devices[placement.Gpu].Slices!;
                if (slices.IsClean(placement.Placement))
                {
                    slices.Set(placement.Placement, MemorySliceState.Reserved, claimUid, name);
                    changed = true;
                }
            }

            foreach (var e in deviceNames.Where(n => !_placements.ContainsKey(n)).Select(n => _devices[n]).Where(e => e.State == DeviceState.Clean))
            {
                e.State = DeviceState.Reserved;
                e.ClaimUid = claimUid;
                changed = true;
            }

            if (changed)
            {
                BumpLocked();
            }
        }
    }

    /// <summary>Reserved → Prepared, recorded in the journal: the caller's next commit (the claim's Prepared entry) makes it durable.</summary>
    public void MarkPrepared(string claimUid, IEnumerable<string> deviceNames) =>
        Move(claimUid, deviceNames, DeviceState.Reserved, DeviceState.Prepared);

    /// <summary>Prepared → Releasing, recorded in the journal; the caller commits before any scrub starts.</summary>
    public void BeginRelease(string claimUid, IEnumerable<string> deviceNames) =>
        Move(claimUid, deviceNames, DeviceState.Prepared, DeviceState.Releasing);

    /// <summary>Gives back devices a claim holds without them having been exposed (prepare rolled back): Reserved/Prepared → Clean.</summary>
    public void Release(string claimUid, IEnumerable<string> deviceNames)
    {
        ArgumentNullException.ThrowIfNull(deviceNames);
        lock (_lock)
        {
            var changed = false;
            foreach (var name in deviceNames)
            {
                if (_placements.TryGetValue(name, out var placement))
                {
                    var gpu = _devices[placement.Gpu];
                    if (gpu.Slices!.HeldBy(placement.Placement, claimUid, name, MemorySliceState.Reserved, MemorySliceState.Prepared))
                    {
                        gpu.Slices.Set(placement.Placement, MemorySliceState.Clean, null);
                        WriteRecordLocked(gpu);
                        changed = true;
                    }

                    continue;
                }

                if (_devices.TryGetValue(name, out var e) && e.ClaimUid == claimUid && e.State is DeviceState.Reserved or DeviceState.Prepared)
                {
                    e.State = DeviceState.Clean;
                    e.ClaimUid = null;
                    WriteRecordLocked(e);
                    changed = true;
                }
            }

            if (changed)
            {
                BumpLocked();
            }
        }
    }

    /// <summary>
    /// Dynamic MIG: a prepare that never answered the kubelet may have left a MIG instance over these placements (it
    /// created one, or crashed around the create). Their slices go from held by <paramref name="claimUid"/> to Dirty,
    /// in the journal (the caller commits), so the retry loop scrubs whatever instance is there and destroys it before
    /// the memory is offered again. Whole GPUs are released as by <see cref="Release"/>.
    /// </summary>
    public void Abandon(string claimUid, IEnumerable<string> deviceNames, string detail)
    {
        ArgumentNullException.ThrowIfNull(deviceNames);
        lock (_lock)
        {
            var changed = false;
            foreach (var name in deviceNames)
            {
                if (!_placements.TryGetValue(name, out var placement))
                {
                    continue;
                }

                var gpu = _devices[placement.Gpu];
                if (gpu.Slices!.HeldBy(placement.Placement, claimUid, name, MemorySliceState.Reserved, MemorySliceState.Prepared))
                {
                    gpu.Slices.SetDirty(placement.Placement, WithdrawalReason.VramDirty, detail);
                    WriteRecordLocked(gpu);
                    changed = true;
                }
            }

            if (changed)
            {
                BumpLocked();
            }
        }
    }

    /// <summary>
    /// Dynamic MIG, start-up: a partitioned GPU with no proof of a verified scrub (Unknown, or Dirty) cannot be scrubbed
    /// whole while MIG mode is on, but each of its memory slices can, through an instance. Its doubt moves to the slices:
    /// every slice no claim holds becomes Dirty with the GPU's reason, and the GPU itself is Clean, which changes nothing
    /// it is offered for (a whole GPU is offered only when every slice is Clean, and stays withdrawn while MIG mode is on).
    /// In the journal; the caller commits. True when anything changed.
    /// </summary>
    public bool MoveDoubtToSlices(string gpuName)
    {
        lock (_lock)
        {
            if (!_devices.TryGetValue(gpuName, out var e) || e.Slices is null || e.State is not (DeviceState.Unknown or DeviceState.Dirty))
            {
                return false;
            }

            var detail = e.State == DeviceState.Unknown
                ? $"GPU {gpuName} has no proof of a verified scrub since its last use"
                : $"GPU {gpuName}: {e.DirtyDetail}";
            var reason = e.State == DeviceState.Unknown ? WithdrawalReason.VramDirty : e.DirtyReason;
            for (var i = 0; i < e.Slices.Count; i++)
            {
                var one = new MigPlacement(i, 1);
                if (e.Slices.IsClean(one))
                {
                    e.Slices.SetDirty(one, reason, detail);
                }
            }

            e.State = DeviceState.Clean;
            e.ClaimUid = null;
            WriteRecordLocked(e);
            BumpLocked();
            return true;
        }
    }

    /// <summary>
    /// Marks the memory slices in <paramref name="range"/> of partitioned GPU <paramref name="gpuName"/> that no claim
    /// holds Dirty (start-up recovery: an instance it cannot clean through a placement, or instances it cannot list).
    /// In the journal; the caller commits. True when anything changed.
    /// </summary>
    public bool MarkSlicesDirty(string gpuName, MigPlacement range, string detail)
    {
        lock (_lock)
        {
            if (!_devices.TryGetValue(gpuName, out var gpu) || gpu.Slices is null)
            {
                return false;
            }

            var changed = false;
            for (var i = range.Start; i < range.Start + range.Size; i++)
            {
                var one = new MigPlacement(i, 1);
                if (gpu.Slices.IsClean(one))
                {
                    gpu.Slices.SetDirty(one, WithdrawalReason.VramDirty, detail);
                    changed = true;
                }
            }

            if (changed)
            {
                WriteRecordLocked(gpu);
                BumpLocked();
            }

            return changed;
        }
    }

    /// <summary>
    /// Moves a device to Scrubbing: from Releasing (or Prepared) for <paramref name="claimUid"/>, or,
    /// when it is null, from any state no claim holds (Unknown, Dirty, Clean). False when it is not in
    /// such a state, so two scrubbers never race. The durable record keeps the state it started from.
    /// </summary>
    public bool TryBeginScrub(string deviceName, string? claimUid)
    {
        lock (_lock)
        {
            if (_placements.TryGetValue(deviceName, out var placement))
            {
                return TryBeginPlacementScrubLocked(deviceName, placement, claimUid);
            }

            if (!_devices.TryGetValue(deviceName, out var e))
            {
                return false;
            }

            var ok = claimUid is null
                ? e.State is DeviceState.Unknown or DeviceState.Dirty or DeviceState.Clean
                : e.State is DeviceState.Releasing or DeviceState.Prepared && e.ClaimUid == claimUid;
            if (!ok || (e.Slices is { AnyHeld: true } && claimUid is null))
            {
                // A whole-GPU scrub never runs under a MIG instance a claim holds or a scrub is clearing.
                return false;
            }

            // Durable meanwhile: what it was (a Prepared device is recorded Releasing first: its memory is in doubt).
            e.ScrubFrom = e.State == DeviceState.Prepared ? DeviceState.Releasing : e.State;
            e.ScrubOrigin = e.ScrubFrom;
            e.State = DeviceState.Scrubbing;
            WriteRecordLocked(e);
            BumpLocked();
            return true;
        }
    }

    /// <summary>
    /// Ends a scrub begun with <see cref="TryBeginScrub"/>. Verified: the device is recorded Clean
    /// (and leaves every released claim's dirty list), the record is made durable, and only then is
    /// it offered. Otherwise it is Dirty and withdrawn (ScrubFailed) until a later scrub verifies.
    /// </summary>
    public async Task CompleteScrubAsync(string deviceName, bool verified, string detail, CancellationToken cancellationToken)
    {
        if (IsPlacement(deviceName))
        {
            await CompletePlacementScrubAsync(deviceName, verified, detail, cancellationToken).ConfigureAwait(false);
            return;
        }

        lock (_lock)
        {
            var e = _devices[deviceName];
            if (e.State != DeviceState.Scrubbing)
            {
                throw new InvalidOperationException($"device {deviceName} is not being scrubbed");
            }

            if (verified)
            {
                e.ScrubFrom = DeviceState.Clean; // durable Clean, still Scrubbing (not offered) until committed
                e.Slices?.CleanAllFree(); // the whole GPU's memory verified, every slice with it
                journal.MarkDeviceClean(deviceName);
            }
            else
            {
                SetDirtyLocked(e, WithdrawalReason.ScrubFailed, detail);
            }

            WriteRecordLocked(e);
        }

        try
        {
            await journal.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Not durable: keep it out. If the scrub did verify, a later commit that carries the Clean
            // record is still true; meanwhile the retry loop scrubs it again.
            lock (_lock)
            {
                var e = _devices[deviceName];
                if (verified)
                {
                    SetDirtyLocked(e, WithdrawalReason.VramDirty, "the verified scrub could not be recorded in the checkpoint");
                }

                e.State = DeviceState.Dirty;
                e.ClaimUid = null;
                BumpLocked();
            }

            throw;
        }

        lock (_lock)
        {
            var e = _devices[deviceName];
            if (e.State == DeviceState.Scrubbing)
            {
                e.State = verified ? DeviceState.Clean : DeviceState.Dirty;
                e.ClaimUid = null;
            }

            BumpLocked();
        }
    }

    /// <summary>
    /// MIG mode seen on (current or pending) or off. On: withdrawn with <see cref="WithdrawalReason.MigModeEnabled"/>,
    /// and a device no claim holds is recorded Dirty (its memory is no longer what a scrub verified).
    /// Off: the withdrawal is lifted; the device still needs a verified scrub. True when anything changed;
    /// the caller commits.
    /// </summary>
    public bool SetMigMode(string deviceName, bool enabled)
    {
        lock (_lock)
        {
            if (!_devices.TryGetValue(deviceName, out var e) || e.Overlay.ContainsKey(WithdrawalReason.MigModeEnabled) == enabled)
            {
                return false;
            }

            if (!enabled)
            {
                e.Overlay.Remove(WithdrawalReason.MigModeEnabled);
                BumpLocked();
                return true;
            }

            if (e.Slices is not null)
            {
                // Partitioned: its placements are the devices; the whole GPU stays out while MIG is on
                // (a whole-GPU scrub's coverage is unknown). Memory state is unchanged: each instance is scrubbed on its own.
                e.Overlay[WithdrawalReason.MigModeEnabled] = "MIG mode is enabled: the GPU is offered as MIG placements; the whole GPU returns when MIG mode is off";
                BumpLocked();
                return true;
            }

            e.Overlay[WithdrawalReason.MigModeEnabled] = "MIG mode is enabled or pending; MIG devices are not supported yet";
            if (e.State is DeviceState.Clean or DeviceState.Unknown)
            {
                SetDirtyLocked(e, WithdrawalReason.VramDirty, "MIG mode was enabled: a scrub must verify the whole GPU once it is off");
                WriteRecordLocked(e);
            }

            BumpLocked();
            return true;
        }
    }

    /// <summary>
    /// Withdraws a device from scheduling (the health monitor). A memory reason (VramDirty,
    /// ScrubFailed) marks a device no claim holds Dirty, durable with the caller's next commit: only
    /// a verified scrub brings it back. Returns the inventory version to pass to
    /// <see cref="ISlicePublication.WaitForPublishedAsync"/> when the caller must know the withdrawal
    /// reached the API server.
    /// </summary>
    public long Withdraw(string deviceName, WithdrawalReason reason, string detail)
    {
        lock (_lock)
        {
            if (_placements.TryGetValue(deviceName, out var placement))
            {
                var gpu = _devices[placement.Gpu];
                if (reason is not (WithdrawalReason.VramDirty or WithdrawalReason.ScrubFailed))
                {
                    // Health of an instance is the health of its GPU.
                    gpu.Overlay[reason] = detail;
                    return BumpLocked();
                }

                if (gpu.Slices!.Holder(placement.Placement) is { } holder)
                {
                    throw new InvalidOperationException($"device {deviceName} is held by claim {holder}: only memory no claim holds can be marked dirty");
                }

                gpu.Slices.SetDirty(placement.Placement, reason, detail);
                WriteRecordLocked(gpu);
                return BumpLocked();
            }

            var e = _devices.TryGetValue(deviceName, out var found) ? found : throw new KeyNotFoundException($"device {deviceName} does not exist on this node");
            if (reason is WithdrawalReason.VramDirty or WithdrawalReason.ScrubFailed)
            {
                if (e.State is not (DeviceState.Clean or DeviceState.Unknown or DeviceState.Dirty))
                {
                    throw new InvalidOperationException($"device {deviceName} is {e.State}: only a device no claim holds can be marked dirty");
                }

                SetDirtyLocked(e, reason, detail);
                WriteRecordLocked(e);
                return BumpLocked();
            }

            if (e.Overlay.TryGetValue(reason, out var existing) && existing == detail)
            {
                return _version;
            }

            e.Overlay[reason] = detail;
            return BumpLocked();
        }
    }

    /// <summary>Clears one such reason (e.g. health recovered). The device returns only when no reason is left and it is Clean.</summary>
    public long Return(string deviceName, WithdrawalReason reason)
    {
        EnsureOverlay(reason);
        lock (_lock)
        {
            var e = _devices.TryGetValue(deviceName, out var found) ? found : throw new KeyNotFoundException($"device {deviceName} does not exist on this node");
            return e.Overlay.Remove(reason) ? BumpLocked() : _version;
        }
    }

    /// <summary>Completes when <see cref="Version"/> exceeds <paramref name="seenVersion"/>.</summary>
    /// <summary>
    /// Something rendered beside the devices' states changed (the node's confidential-computing attributes): a new
    /// version, so the slice publisher renders and publishes again. No device state changes.
    /// </summary>
    public long NotifyRenderedChange()
    {
        lock (_lock)
        {
            return BumpLocked();
        }
    }

    public Task WaitForChangeAsync(long seenVersion, CancellationToken cancellationToken)
    {
        Task signal;
        lock (_lock)
        {
            if (_version > seenVersion)
            {
                return Task.CompletedTask;
            }

            signal = _changed.Next;
        }

        return signal.WaitAsync(cancellationToken);
    }

    private static void EnsureOverlay(WithdrawalReason reason)
    {
        if (reason is WithdrawalReason.VramDirty or WithdrawalReason.ScrubFailed)
        {
            throw new ArgumentException($"{reason} is the device's memory, which only a verified scrub clears", nameof(reason));
        }
    }

    private void Move(string claimUid, IEnumerable<string> deviceNames, DeviceState from, DeviceState to)
    {
        ArgumentNullException.ThrowIfNull(deviceNames);
        lock (_lock)
        {
            var changed = false;
            foreach (var name in deviceNames)
            {
                if (_placements.TryGetValue(name, out var placement))
                {
                    var gpu = _devices[placement.Gpu];
                    if (gpu.Slices!.HeldBy(placement.Placement, claimUid, name, SliceState(from)))
                    {
                        gpu.Slices.Set(placement.Placement, SliceState(to), claimUid, name);
                        WriteRecordLocked(gpu);
                        changed = true;
                    }

                    continue;
                }

                if (_devices.TryGetValue(name, out var e) && e.ClaimUid == claimUid && e.State == from)
                {
                    e.State = to;
                    WriteRecordLocked(e);
                    changed = true;
                }
            }

            if (changed)
            {
                BumpLocked();
            }
        }
    }

    private static void RestoreRecordLocked(Entry e, CheckpointDeviceRecord? record, bool rebooted, Func<string, bool> keptPrepared)
    {
        e.ClaimUid = null;
        if (record is null || !string.Equals(record.Uuid, e.Device.Uuid, StringComparison.Ordinal))
        {
            e.State = DeviceState.Unknown;
            return;
        }

        if (record.MemorySlices is { } slices)
        {
            if (e.Slices is null)
            {
                // Was partitioned, is not now: whatever a slice held is in the whole GPU.
                SetDirtyLocked(e, WithdrawalReason.VramDirty, "its MIG memory slices were in use or dirty when the plugin last ran");
                return;
            }

            e.Slices.Restore(slices, keptPrepared, rebooted);
            if (record.SlicesHoldState == true)
            {
                e.State = DeviceState.Clean;
                return;
            }
        }

        switch (record.State)
        {
            case DurableDeviceState.Clean:
                e.State = DeviceState.Clean;
                break;
            case DurableDeviceState.Dirty:
                SetDirtyLocked(e, record.Reason == nameof(WithdrawalReason.ScrubFailed) ? WithdrawalReason.ScrubFailed : WithdrawalReason.VramDirty, record.Detail ?? "recorded dirty");
                break;
            case DurableDeviceState.Releasing:
                SetDirtyLocked(e, WithdrawalReason.VramDirty, $"release of claim {record.Claim} was interrupted");
                break;
            default:
                // Prepared: held again below if its claim stays prepared; otherwise its tenant may have left data.
                SetDirtyLocked(e, WithdrawalReason.VramDirty, rebooted ? $"held by claim {record.Claim} before the node rebooted" : $"held by claim {record.Claim}, which is no longer prepared");
                break;
        }
    }

    private void MarkDirtyLocked(IEnumerable<string> deviceNames, WithdrawalReason reason, string detail)
    {
        foreach (var name in deviceNames)
        {
            if (_placements.TryGetValue(name, out var placement))
            {
                var slices = _devices[placement.Gpu].Slices!;
                if (slices.Holder(placement.Placement) is null && !slices.AnyDirty(placement.Placement))
                {
                    slices.SetDirty(placement.Placement, reason, detail);
                }
                else if (slices.Holder(placement.Placement) is { } holder && !slices.HeldBy(placement.Placement, holder, null, MemorySliceState.Prepared))
                {
                    slices.SetDirty(placement.Placement, reason, detail);
                }

                continue;
            }

            if (_devices.TryGetValue(name, out var e) && e.State != DeviceState.Dirty)
            {
                SetDirtyLocked(e, reason, detail);
            }
        }
    }

    private static void SetDirtyLocked(Entry e, WithdrawalReason reason, string detail)
    {
        if (e.State == DeviceState.Scrubbing)
        {
            e.ScrubFrom = DeviceState.Dirty;
        }
        else
        {
            e.State = DeviceState.Dirty;
            e.ClaimUid = null;
        }

        e.DirtyReason = reason;
        e.DirtyDetail = detail;
    }

    /// <summary>The durable form of the entry's state (docs/isolation.md): Unknown has no record, Reserved is Clean, Scrubbing what it started from.</summary>
    private void WriteRecordLocked(Entry e)
    {
        var state = e.State == DeviceState.Scrubbing ? e.ScrubFrom : e.State;
        CheckpointDeviceRecord? record = state switch
        {
            DeviceState.Clean or DeviceState.Reserved => new() { Uuid = e.Device.Uuid, State = DurableDeviceState.Clean },
            DeviceState.Prepared => new() { Uuid = e.Device.Uuid, State = DurableDeviceState.Prepared, Claim = e.ClaimUid },
            DeviceState.Releasing => new() { Uuid = e.Device.Uuid, State = DurableDeviceState.Releasing, Claim = e.ClaimUid },
            DeviceState.Dirty => new() { Uuid = e.Device.Uuid, State = DurableDeviceState.Dirty, Reason = e.DirtyReason.ToString(), Detail = e.DirtyDetail },
            _ => null,
        };
        if (e.Slices?.ToRecords() is { } slices && record is not null)
        {
            record.MemorySlices = slices;
            if (record.State == DurableDeviceState.Clean)
            {
                // Read as Dirty by a version that does not know memory slices: it scrubs rather than offers.
                record.State = DurableDeviceState.Dirty;
                record.Reason = nameof(WithdrawalReason.VramDirty);
                record.Detail = "MIG memory slices are in use or dirty (memorySlices)";
                record.SlicesHoldState = true;
            }
        }

        journal.SetDevice(e.Device.Name, record);
    }

    private static MemorySliceState SliceState(DeviceState state) => state switch
    {
        DeviceState.Reserved => MemorySliceState.Reserved,
        DeviceState.Prepared => MemorySliceState.Prepared,
        DeviceState.Releasing => MemorySliceState.Releasing,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not a held state"),
    };

    /// <summary>Two devices of one request that share memory (two placements, or a placement and its whole GPU) can never both be handed out.</summary>
    private void CheckNoOverlapLocked(IReadOnlyCollection<string> deviceNames)
    {
        var taken = new List<(string Gpu, MigPlacement? Placement, string Name)>();
        foreach (var name in deviceNames.Distinct(StringComparer.Ordinal))
        {
            (string Gpu, MigPlacement? Placement) mine = _placements.TryGetValue(name, out var r) ? (r.Gpu, r.Placement) : (name, null);
            var clash = taken.FirstOrDefault(t => t.Gpu == mine.Gpu && (t.Placement is not { } a || mine.Placement is not { } b || a.Overlaps(b)));
            if (clash.Name is not null)
            {
                throw new DeviceReservationException($"devices {clash.Name} and {name} share memory of one GPU and cannot be allocated together");
            }

            taken.Add((mine.Gpu, mine.Placement, name));
        }
    }

    private void CheckPlacementReservableLocked(string claimUid, string name, PlacementRef placement)
    {
        var gpu = _devices[placement.Gpu];
        var slices = gpu.Slices!;
        if (slices.HeldBy(placement.Placement, claimUid, name, MemorySliceState.Reserved, MemorySliceState.Prepared))
        {
            return; // idempotent prepare
        }

        var withdrawals = PlacementWithdrawalsLocked(gpu, placement);
        if (withdrawals.Count > 0)
        {
            throw new DeviceReservationException($"device {name} is withdrawn from scheduling ({Describe(withdrawals)}); it returns after a verified scrub");
        }

        if (gpu.State is DeviceState.Reserved or DeviceState.Prepared or DeviceState.Releasing)
        {
            throw new DeviceReservationException($"device {name} is on GPU {gpu.Device.Name}, which is prepared whole for claim {gpu.ClaimUid}");
        }

        if (gpu.State != DeviceState.Clean)
        {
            throw new DeviceReservationException($"device {name} is on GPU {gpu.Device.Name}, which is being scrubbed; try again when the scrub has finished");
        }

        if (!slices.IsClean(placement.Placement))
        {
            throw new DeviceReservationException($"device {name} overlaps memory slices held by claim {slices.Holder(placement.Placement) ?? "(a scrub)"}");
        }
    }

    /// <summary>A placement's withdrawals: its GPU's (MIG mode aside: placements are how a MIG GPU is offered) and its own slices'.</summary>
    private static Dictionary<WithdrawalReason, string> PlacementWithdrawalsLocked(Entry gpu, PlacementRef placement)
    {
        var all = new Dictionary<WithdrawalReason, string>();
        foreach (var (reason, detail) in gpu.Overlay.Where(o => o.Key != WithdrawalReason.MigModeEnabled))
        {
            all[reason] = detail;
        }

        switch (gpu.State == DeviceState.Scrubbing ? gpu.ScrubOrigin : gpu.State)
        {
            case DeviceState.Unknown:
                all[WithdrawalReason.VramDirty] = $"GPU {gpu.Device.Name} has no proof of a verified scrub since its last use";
                break;
            case DeviceState.Dirty:
                all[gpu.DirtyReason] = $"GPU {gpu.Device.Name}: {gpu.DirtyDetail}";
                break;
        }

        gpu.Slices!.AddWithdrawals(placement.Placement, all);
        return all;
    }

    private PartitionSnapshot PartitionLocked(Entry gpu)
    {
        var slices = gpu.Slices!.Snapshot();
        var placements = _placements.Where(p => p.Value.Gpu == gpu.Device.Name).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p =>
        {
            var range = slices.Skip(p.Value.Placement.Start).Take(p.Value.Placement.Size).ToList();
            var holder = range.Select(s => s.ClaimUid).FirstOrDefault(c => c is not null);
            var state = range.All(s => s.State == MemorySliceState.Clean) ? DeviceState.Clean
                : range.Any(s => s.State == MemorySliceState.Dirty) ? DeviceState.Dirty
                : range.Any(s => s.State == MemorySliceState.Scrubbing) ? DeviceState.Scrubbing
                : range.Any(s => s.State == MemorySliceState.Releasing) ? DeviceState.Releasing
                : range.Any(s => s.State == MemorySliceState.Prepared) ? DeviceState.Prepared
                : DeviceState.Reserved;
            return new PlacementStateSnapshot(p.Key, gpu.Device, p.Value.Profile, p.Value.Placement, state, holder, PlacementWithdrawalsLocked(gpu, p.Value));
        });
        return new PartitionSnapshot(gpu.Device, gpu.Profiles, slices, [.. placements]);
    }

    private bool TryBeginPlacementScrubLocked(string name, PlacementRef placement, string? claimUid)
    {
        var gpu = _devices[placement.Gpu];
        var slices = gpu.Slices!;
        var ok = claimUid is null
            ? slices.Holder(placement.Placement) is null && gpu.State is DeviceState.Clean or DeviceState.Dirty or DeviceState.Unknown
            : slices.HeldBy(placement.Placement, claimUid, name, MemorySliceState.Releasing, MemorySliceState.Prepared);
        if (!ok)
        {
            return false;
        }

        if (claimUid is null)
        {
            // Durable meanwhile as dirty: nothing verified it yet.
            slices.SetDirty(placement.Placement, WithdrawalReason.VramDirty, "a scrub of this MIG instance's memory is running");
            WriteRecordLocked(gpu);
        }
        else
        {
            slices.Set(placement.Placement, MemorySliceState.Releasing, claimUid, name);
            WriteRecordLocked(gpu);
        }

        slices.Set(placement.Placement, MemorySliceState.Scrubbing, claimUid ?? "", name);
        BumpLocked();
        return true;
    }

    /// <summary>Ends a placement scrub: verified → its slices Clean once durable; otherwise Dirty (ScrubFailed), withdrawing every device that uses them, the whole GPU included.</summary>
    private async Task CompletePlacementScrubAsync(string deviceName, bool verified, string detail, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var placement = _placements[deviceName];
            var gpu = _devices[placement.Gpu];
            if (!gpu.Slices!.HeldBy(placement.Placement, gpu.Slices.Holder(placement.Placement) ?? "", deviceName, MemorySliceState.Scrubbing))
            {
                throw new InvalidOperationException($"device {deviceName} is not being scrubbed");
            }

            if (verified)
            {
                gpu.Slices.Set(placement.Placement, MemorySliceState.Clean, null);
                journal.MarkDeviceClean(deviceName);
                WriteRecordLocked(gpu);
                gpu.Slices.Set(placement.Placement, MemorySliceState.Scrubbing, "", deviceName); // not offered until committed
            }
            else
            {
                gpu.Slices.SetDirty(placement.Placement, WithdrawalReason.ScrubFailed, detail);
                WriteRecordLocked(gpu);
            }
        }

        try
        {
            await journal.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            lock (_lock)
            {
                var placement = _placements[deviceName];
                _devices[placement.Gpu].Slices!.SetDirty(placement.Placement, verified ? WithdrawalReason.VramDirty : WithdrawalReason.ScrubFailed,
                    verified ? "the verified scrub could not be recorded in the checkpoint" : detail);
                BumpLocked();
            }

            throw;
        }

        lock (_lock)
        {
            var placement = _placements[deviceName];
            if (verified)
            {
                _devices[placement.Gpu].Slices!.Set(placement.Placement, MemorySliceState.Clean, null);
                WriteRecordLocked(_devices[placement.Gpu]);
            }

            BumpLocked();
        }
    }

    private sealed record PlacementRef(string Gpu, MigProfile Profile, MigPlacement Placement);

    private long BumpLocked()
    {
        _version++;
        _changed.Signal();
        return _version;
    }

    private static string Describe(IReadOnlyDictionary<WithdrawalReason, string> withdrawals) =>
        string.Join("; ", withdrawals.Select(w => $"{w.Key}: {w.Value}"));

    private sealed class Entry(GpuDevice device)
    {
        public GpuDevice Device { get; } = device;
        public DeviceState State { get; set; }
        public string? ClaimUid { get; set; }

        /// <summary>While Scrubbing: the durable state (Unknown, Dirty, Clean, Releasing), Clean once a verified outcome is recorded.</summary>
        public DeviceState ScrubFrom { get; set; }

        /// <summary>While Scrubbing: the state it started from, which decides its withdrawals until the scrub ends.</summary>
        public DeviceState ScrubOrigin { get; set; }

        public WithdrawalReason DirtyReason { get; set; } = WithdrawalReason.VramDirty;
        public string DirtyDetail { get; set; } = "";

        /// <summary>Reasons other than memory (Unhealthy, MigModeEnabled).</summary>
        public Dictionary<WithdrawalReason, string> Overlay { get; } = [];

        /// <summary>A partitioned GPU's memory slices (dynamic MIG); null for a GPU published whole only.</summary>
        public MemorySliceMap? Slices { get; set; }

        public IReadOnlyList<MigProfile> Profiles { get; set; } = [];

        public Dictionary<WithdrawalReason, string> Withdrawals()
        {
            var all = new Dictionary<WithdrawalReason, string>(Overlay);
            var memory = State == DeviceState.Scrubbing ? ScrubOrigin : State;
            switch (memory)
            {
                case DeviceState.Unknown:
                    all[WithdrawalReason.VramDirty] = "no proof of a verified scrub since its last use";
                    break;
                case DeviceState.Dirty:
                    all[DirtyReason] = DirtyDetail;
                    break;
            }

            // A dirty slice withdraws the whole GPU too: allocating it would hand that memory out.
            Slices?.AddWithdrawals(null, all);
            return all;
        }

        public DeviceStateSnapshot ToSnapshot() => new(Device, State, ClaimUid, Withdrawals());
    }
}
