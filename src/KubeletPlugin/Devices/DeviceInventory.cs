using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// The single owner of each device's state: who holds it (free, prepared for a claim, scrubbing)
/// and why it is withdrawn, if it is. Every change bumps <see cref="Version"/> and wakes
/// <see cref="WaitForChangeAsync"/>, which the slice publisher consumes. Thread-safe: one lock,
/// no I/O under it. A device is never prepared for two claims.
/// </summary>
public sealed class DeviceInventory
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _devices = new(StringComparer.Ordinal);
    private List<string> _order = [];
    private long _version;
    private bool _initialized;
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>Bumped on every change; starts at 0 before <see cref="Initialize"/>.</summary>
    public long Version
    {
        get { lock (_lock) { return _version; } }
    }

    public bool IsInitialized
    {
        get { lock (_lock) { return _initialized; } }
    }

    /// <summary>Sets the node's devices once, all free and clean; recovery then applies the checkpoint.</summary>
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
            return new InventorySnapshot(_version, [.. _order.Select(n => _devices[n].ToSnapshot())]);
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
    /// Atomically hands all <paramref name="deviceNames"/> to <paramref name="claimUid"/>, or none
    /// of them. Devices already prepared for this same claim are accepted (idempotent prepare).
    /// </summary>
    public void Reserve(string claimUid, IReadOnlyCollection<string> deviceNames)
    {
        ArgumentNullException.ThrowIfNull(deviceNames);
        lock (_lock)
        {
            foreach (var name in deviceNames)
            {
                if (!_devices.TryGetValue(name, out var e))
                {
                    throw new DeviceReservationException($"device {name} does not exist on this node");
                }

                if (e.Withdrawals.Count > 0)
                {
                    throw new DeviceReservationException($"device {name} is withdrawn from scheduling ({Describe(e.Withdrawals)}); it returns after a verified scrub");
                }

                switch (e.Assignment)
                {
                    case DeviceAssignment.Prepared when e.ClaimUid == claimUid:
                    case DeviceAssignment.Free:
                        break;
                    case DeviceAssignment.Prepared:
                        throw new DeviceReservationException($"device {name} is prepared for another claim ({e.ClaimUid})");
                    default:
                        throw new DeviceReservationException($"device {name} is being scrubbed; try again when the scrub has finished");
                }
            }

            var changed = false;
            foreach (var name in deviceNames)
            {
                var e = _devices[name];
                if (e.Assignment != DeviceAssignment.Prepared)
                {
                    e.Assignment = DeviceAssignment.Prepared;
                    e.ClaimUid = claimUid;
                    changed = true;
                }
            }

            if (changed)
            {
                BumpLocked();
            }
        }
    }

    /// <summary>Gives back devices a claim holds without them having been exposed (prepare rolled back).</summary>
    public void Release(string claimUid, IEnumerable<string> deviceNames)
    {
        ArgumentNullException.ThrowIfNull(deviceNames);
        lock (_lock)
        {
            var changed = false;
            foreach (var name in deviceNames)
            {
                if (_devices.TryGetValue(name, out var e) && e.ClaimUid == claimUid && e.Assignment == DeviceAssignment.Prepared)
                {
                    e.Assignment = DeviceAssignment.Free;
                    e.ClaimUid = null;
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
    /// Moves a device from the claim (or from free-but-dirty, when <paramref name="claimUid"/> is
    /// null) to scrubbing. False when it is not in that state, so two scrubbers never race.
    /// </summary>
    public bool TryBeginScrub(string deviceName, string? claimUid)
    {
        lock (_lock)
        {
            if (!_devices.TryGetValue(deviceName, out var e))
            {
                return false;
            }

            var ok = claimUid is null
                ? e.Assignment == DeviceAssignment.Free
                : e.Assignment == DeviceAssignment.Prepared && e.ClaimUid == claimUid;
            if (!ok)
            {
                return false;
            }

            e.Assignment = DeviceAssignment.Scrubbing;
            BumpLocked();
            return true;
        }
    }

    /// <summary>A verified scrub: the device is free and loses its dirty / scrub-failed withdrawals.</summary>
    public long CompleteScrubClean(string deviceName)
    {
        lock (_lock)
        {
            var e = _devices[deviceName];
            e.Assignment = DeviceAssignment.Free;
            e.ClaimUid = null;
            e.Withdrawals.Remove(WithdrawalReason.VramDirty);
            e.Withdrawals.Remove(WithdrawalReason.ScrubFailed);
            return BumpLocked();
        }
    }

    /// <summary>A failed scrub: the device is free of its claim but withdrawn until a later scrub verifies.</summary>
    public long CompleteScrubFailed(string deviceName, string detail)
    {
        lock (_lock)
        {
            var e = _devices[deviceName];
            e.Assignment = DeviceAssignment.Free;
            e.ClaimUid = null;
            e.Withdrawals[WithdrawalReason.ScrubFailed] = detail;
            return BumpLocked();
        }
    }

    /// <summary>
    /// Withdraws a device from scheduling (health monitor, recovery). Returns the inventory version
    /// to pass to <see cref="ISlicePublication.WaitForPublishedAsync"/> when the caller must know the
    /// withdrawal reached the API server.
    /// </summary>
    public long Withdraw(string deviceName, WithdrawalReason reason, string detail)
    {
        lock (_lock)
        {
            var e = _devices.TryGetValue(deviceName, out var found) ? found : throw new KeyNotFoundException($"device {deviceName} does not exist on this node");
            if (e.Withdrawals.TryGetValue(reason, out var existing) && existing == detail)
            {
                return _version;
            }

            e.Withdrawals[reason] = detail;
            return BumpLocked();
        }
    }

    /// <summary>Clears one withdrawal reason (e.g. health recovered). The device returns only when no reason is left.</summary>
    public long Return(string deviceName, WithdrawalReason reason)
    {
        lock (_lock)
        {
            var e = _devices.TryGetValue(deviceName, out var found) ? found : throw new KeyNotFoundException($"device {deviceName} does not exist on this node");
            return e.Withdrawals.Remove(reason) ? BumpLocked() : _version;
        }
    }

    /// <summary>Completes when <see cref="Version"/> exceeds <paramref name="seenVersion"/>.</summary>
    public Task WaitForChangeAsync(long seenVersion, CancellationToken cancellationToken)
    {
        Task signal;
        lock (_lock)
        {
            if (_version > seenVersion)
            {
                return Task.CompletedTask;
            }

            signal = _changed.Task;
        }

        return signal.WaitAsync(cancellationToken);
    }

    private long BumpLocked()
    {
        _version++;
        var previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
        return _version;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static string Describe(Dictionary<WithdrawalReason, string> withdrawals) =>
        string.Join("; ", withdrawals.Select(w => $"{w.Key}: {w.Value}"));

    private sealed class Entry(GpuDevice device)
    {
        public GpuDevice Device { get; } = device;
        public DeviceAssignment Assignment { get; set; }
        public string? ClaimUid { get; set; }
        public Dictionary<WithdrawalReason, string> Withdrawals { get; } = [];

        public DeviceStateSnapshot ToSnapshot() =>
            new(Device, Assignment, ClaimUid, new Dictionary<WithdrawalReason, string>(Withdrawals));
    }
}
