using System.Globalization;
using SecureDra.KubeletPlugin.State;

using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// The 8 memory slices of one partitioned GPU. Not thread-safe: <see cref="DeviceInventory"/>
/// owns it and calls it under its lock; the inventory stays the one owner of cleanliness.
/// </summary>
internal sealed class MemorySliceMap
{
    private readonly Slot[] _slots = [.. Enumerable.Range(0, MigDeviceNames.MemorySlices).Select(_ => new Slot())];

    public int Count => _slots.Length;

    public bool AllClean => _slots.All(s => s.State == MemorySliceState.Clean);

    public bool AnyHeld => _slots.Any(s => s.State is not (MemorySliceState.Clean or MemorySliceState.Dirty));

    public bool IsClean(MigPlacement p) => Range(p).All(s => s.State == MemorySliceState.Clean);

    /// <summary>
    /// Every slice of <paramref name="p"/> held by <paramref name="claimUid"/> in <paramref name="state"/>, through device
    /// <paramref name="device"/> (null: any): a claim acts on its slices only through the device it reserved, never
    /// through another name that covers the same memory.
    /// </summary>
    public bool HeldBy(MigPlacement p, string claimUid, string? device, params MemorySliceState[] state) =>
        Range(p).All(s => s.ClaimUid == claimUid && state.Contains(s.State) && (device is null || s.Device == device));

    /// <summary>The claim holding any slice of <paramref name="p"/>, if one does.</summary>
    public string? Holder(MigPlacement p) => Range(p).Select(s => s.ClaimUid).FirstOrDefault(c => c is not null);

    public bool AnyDirty(MigPlacement p) => Range(p).Any(s => s.State == MemorySliceState.Dirty);

    public void Set(MigPlacement p, MemorySliceState state, string? claimUid, string? device = null)
    {
        foreach (var s in Range(p))
        {
            s.State = state;
            s.ClaimUid = claimUid;
            s.Device = claimUid is null ? null : device;
            s.DirtyReason = WithdrawalReason.VramDirty;
            s.DirtyDetail = "";
        }
    }

    public void SetDirty(MigPlacement p, WithdrawalReason reason, string detail)
    {
        foreach (var s in Range(p))
        {
            s.State = MemorySliceState.Dirty;
            s.ClaimUid = null;
            s.Device = null;
            s.DirtyReason = reason;
            s.DirtyDetail = detail;
        }
    }

    /// <summary>A whole-GPU scrub verified: every slice no claim holds is Clean again.</summary>
    public void CleanAllFree()
    {
        foreach (var s in _slots.Where(s => s.State == MemorySliceState.Dirty))
        {
            s.State = MemorySliceState.Clean;
            s.DirtyDetail = "";
        }
    }

    /// <summary>The withdrawals the dirty slices of <paramref name="p"/> cause (null: the whole GPU).</summary>
    public void AddWithdrawals(MigPlacement? p, Dictionary<WithdrawalReason, string> into)
    {
        var range = p is not { } placement ? _slots.Select((s, i) => (s, i)) : Range(placement).Select((s, i) => (s, i + placement.Start));
        foreach (var (s, i) in range.Where(x => x.s.State == MemorySliceState.Dirty))
        {
            var text = string.Create(CultureInfo.InvariantCulture, $"memory slice {i}: {s.DirtyDetail}");
            into[s.DirtyReason] = into.TryGetValue(s.DirtyReason, out var existing) ? existing : text;
        }

        // A scrub of memory no claim holds started from Dirty: until it verifies, the memory is as withdrawn as before it
        // began (a device published meanwhile would be allocated, then refused at Prepare).
        foreach (var (s, i) in range.Where(x => x.s.State == MemorySliceState.Scrubbing && string.IsNullOrEmpty(x.s.ClaimUid)))
        {
            into.TryAdd(WithdrawalReason.VramDirty, string.Create(CultureInfo.InvariantCulture, $"memory slice {i}: a scrub of this memory is running"));
        }
    }

    public IReadOnlyList<MemorySliceSnapshot> Snapshot() =>
        [.. _slots.Select((s, i) => new MemorySliceSnapshot(i, s.State, s.ClaimUid, s.State == MemorySliceState.Dirty ? s.DirtyReason : null, s.State == MemorySliceState.Dirty ? s.DirtyDetail : null))];

    /// <summary>The durable form: null when every slice is Clean. Reserved is Clean (nothing reached the kubelet), Scrubbing what it started from (Releasing).</summary>
    public List<CheckpointMemorySlice>? ToRecords()
    {
        if (AllClean)
        {
            return null;
        }

        return [.. _slots.Select(s => s.State switch
        {
            MemorySliceState.Clean or MemorySliceState.Reserved => new CheckpointMemorySlice { State = DurableDeviceState.Clean },
            MemorySliceState.Prepared => new CheckpointMemorySlice { State = DurableDeviceState.Prepared, Claim = s.ClaimUid },
            MemorySliceState.Releasing or MemorySliceState.Scrubbing when !string.IsNullOrEmpty(s.ClaimUid) => new CheckpointMemorySlice { State = DurableDeviceState.Releasing, Claim = s.ClaimUid },
            MemorySliceState.Scrubbing => new CheckpointMemorySlice { State = DurableDeviceState.Dirty, Reason = nameof(WithdrawalReason.VramDirty), Detail = "a scrub of this memory was running" },
            _ => new CheckpointMemorySlice { State = DurableDeviceState.Dirty, Reason = s.DirtyReason.ToString(), Detail = s.DirtyDetail },
        })];
    }

    /// <summary>
    /// Start-up: each slice from its record. A slice stays held only by a claim that stays prepared;
    /// any other holder, or an interrupted release, leaves it Dirty (a tenant may have written it).
    /// </summary>
    public void Restore(IReadOnlyList<CheckpointMemorySlice> records, Func<string, bool> keptPrepared, bool rebooted)
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            var r = records[i];
            var s = _slots[i];
            s.ClaimUid = null;
            s.Device = null; // bound again from the claim's device list (DeviceInventory.Restore)
            switch (r.State)
            {
                case DurableDeviceState.Clean:
                    s.State = MemorySliceState.Clean;
                    break;
                case DurableDeviceState.Prepared when r.Claim is not null && keptPrepared(r.Claim):
                    s.State = MemorySliceState.Prepared;
                    s.ClaimUid = r.Claim;
                    break;
                case DurableDeviceState.Prepared:
                    Dirty(s, WithdrawalReason.VramDirty, rebooted ? $"held by claim {r.Claim} before the node rebooted" : $"held by claim {r.Claim}, which is no longer prepared");
                    break;
                case DurableDeviceState.Releasing:
                    Dirty(s, WithdrawalReason.VramDirty, $"release of claim {r.Claim} was interrupted");
                    break;
                default:
                    Dirty(s, r.Reason == nameof(WithdrawalReason.ScrubFailed) ? WithdrawalReason.ScrubFailed : WithdrawalReason.VramDirty, r.Detail ?? "recorded dirty");
                    break;
            }
        }
    }

    private static void Dirty(Slot s, WithdrawalReason reason, string detail)
    {
        s.State = MemorySliceState.Dirty;
        s.DirtyReason = reason;
        s.DirtyDetail = detail;
    }

    private IEnumerable<Slot> Range(MigPlacement p) => _slots.Skip(p.Start).Take(p.Size);

    private sealed class Slot
    {
        public MemorySliceState State { get; set; }
        public string? ClaimUid { get; set; }

        /// <summary>The device name the claim holds this slice through.</summary>
        public string? Device { get; set; }

        public WithdrawalReason DirtyReason { get; set; } = WithdrawalReason.VramDirty;
        public string DirtyDetail { get; set; } = "";
    }
}
