using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.State;

/// <summary>
/// The in-memory copy of the checkpoint and its single writer. Mutations are instant and
/// versioned; <see cref="CommitAsync"/> makes every mutation made so far durable. Concurrent
/// committers are batched: one write covers all of them (group commit), and the file is never
/// written by two tasks at once.
/// </summary>
public sealed class ClaimJournal(CheckpointFile file, MetricsRegistry metrics)
{
    /// <summary>The metric counting checkpoint files written: durable writes per Prepare, and how well group commit batches.</summary>
    public const string WritesMetric = "securedra_checkpoint_writes_total";

    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _writer = new(1, 1);
    private CheckpointData _data = new();
    private long _version;
    private long _durableVersion;
    private readonly Counter _writes = metrics.Counter(WritesMetric, "Checkpoint files written (each an fsync'd atomic replace); concurrent commits share one write.");

    public CheckpointFile File => file;

    /// <summary>Replaces the state with what recovery decided, not yet durable.</summary>
    public void Load(CheckpointData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        lock (_lock)
        {
            _data = data;
            _data.Devices ??= new Dictionary<string, CheckpointDeviceRecord>(StringComparer.Ordinal);
            _version++;
        }
    }

    public CheckpointClaim? Get(string claimUid)
    {
        lock (_lock)
        {
            return _data.Claims.TryGetValue(claimUid, out var c) ? Clone(c) : null;
        }
    }

    public IReadOnlyDictionary<string, CheckpointClaim> Claims()
    {
        lock (_lock)
        {
            return _data.Claims.ToDictionary(c => c.Key, c => Clone(c.Value), StringComparer.Ordinal);
        }
    }

    public void Put(string claimUid, CheckpointClaim claim)
    {
        ArgumentNullException.ThrowIfNull(claim);
        lock (_lock)
        {
            _data.Claims[claimUid] = Clone(claim);
            _version++;
        }
    }

    public void Remove(string claimUid)
    {
        lock (_lock)
        {
            if (_data.Claims.Remove(claimUid))
            {
                _version++;
            }
        }
    }

    public void SetBootId(string? bootId)
    {
        lock (_lock)
        {
            if (_data.BootId != bootId)
            {
                _data.BootId = bootId;
                _version++;
            }
        }
    }

    /// <summary>Sets (or, with null, removes) one device's durable record, not yet durable. Only <c>DeviceInventory</c> calls this.</summary>
    public void SetDevice(string deviceName, CheckpointDeviceRecord? record)
    {
        lock (_lock)
        {
            var devices = _data.Devices ??= new Dictionary<string, CheckpointDeviceRecord>(StringComparer.Ordinal);
            if (record is null)
            {
                if (devices.Remove(deviceName))
                {
                    _version++;
                }

                return;
            }

            if (devices.TryGetValue(deviceName, out var existing) && Same(existing, record))
            {
                return;
            }

            devices[deviceName] = Clone(record);
            _version++;
        }
    }

    /// <summary>Removes a device from every ScrubFailed claim's dirty list; drops claims left with none.</summary>
    public void MarkDeviceClean(string deviceName)
    {
        lock (_lock)
        {
            foreach (var (uid, claim) in _data.Claims.ToList())
            {
                if (claim.State == ClaimCheckpointState.ScrubFailed && claim.DirtyDevices is { } dirty && dirty.Remove(deviceName))
                {
                    if (dirty.Count == 0)
                    {
                        _data.Claims.Remove(uid);
                    }

                    _version++;
                }
            }
        }
    }

    /// <summary>Writes the checkpoint unless a write that already covers every mutation so far has happened.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        long target;
        lock (_lock)
        {
            target = _version;
        }

        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Interlocked.Read(ref _durableVersion) >= target)
            {
                return;
            }

            byte[] bytes;
            long version;
            lock (_lock)
            {
                bytes = CheckpointFile.Serialize(_data);
                version = _version;
            }

            await file.WriteRawAsync(bytes, cancellationToken).ConfigureAwait(false);
            _writes.Inc();
            Interlocked.Exchange(ref _durableVersion, version);
        }
        finally
        {
            _writer.Release();
        }
    }

    private static bool Same(CheckpointDeviceRecord a, CheckpointDeviceRecord b) =>
        a.Uuid == b.Uuid && a.State == b.State && a.Claim == b.Claim && a.Reason == b.Reason && a.Detail == b.Detail && a.Extra is null && b.Extra is null
        && a.SlicesHoldState == b.SlicesHoldState && SameSlices(a.MemorySlices, b.MemorySlices);

    // Memory slices are part of the record: a slice changing state must reach the file even when the GPU's own state did not change.
    private static bool SameSlices(List<CheckpointMemorySlice>? a, List<CheckpointMemorySlice>? b) =>
        a is null || b is null
            ? a is null && b is null
            : a.Count == b.Count && a.Zip(b).All(p => p.First.State == p.Second.State && p.First.Claim == p.Second.Claim && p.First.Reason == p.Second.Reason
                && p.First.Detail == p.Second.Detail && p.First.Extra is null && p.Second.Extra is null);

    private static CheckpointDeviceRecord Clone(CheckpointDeviceRecord r) =>
        new()
        {
            Uuid = r.Uuid, State = r.State, Claim = r.Claim, Reason = r.Reason, Detail = r.Detail, Extra = r.Extra,
            SlicesHoldState = r.SlicesHoldState,
            MemorySlices = r.MemorySlices?.Select(s => new CheckpointMemorySlice { State = s.State, Claim = s.Claim, Reason = s.Reason, Detail = s.Detail, Extra = s.Extra }).ToList(),
        };

    private static CheckpointClaim Clone(CheckpointClaim c) => new()
    {
        Namespace = c.Namespace,
        Name = c.Name,
        State = c.State,
        Devices = [.. c.Devices.Select(d => new CheckpointDevice { Name = d.Name, Uuid = d.Uuid, ResetPolicy = d.ResetPolicy, MigInstance = d.MigInstance?.Clone(), MigSpec = d.MigSpec?.Clone(), Extra = d.Extra })],
        Prepared = c.Prepared?.Select(p => new CheckpointPreparedDevice
        {
            RequestNames = [.. p.RequestNames],
            PoolName = p.PoolName,
            DeviceName = p.DeviceName,
            CdiDeviceIds = [.. p.CdiDeviceIds],
            ShareId = p.ShareId,
            Extra = p.Extra,
        }).ToList(),
        DirtyDevices = c.DirtyDevices is null ? null : [.. c.DirtyDevices],
        Extra = c.Extra,
    };
}
