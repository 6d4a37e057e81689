using Microsoft.Extensions.Logging;
using SecureDra.Api.Config;
using SecureDra.Api.Validation;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// Prepare and Unprepare for this node. Claims of one call run concurrently, each under its own
/// lock; every durable step is written to the checkpoint before the next begins (see
/// <see cref="CrashPoints"/>), and the checkpoint has one writer that batches concurrent commits.
/// One claim's failure is that claim's error, never the batch's.
/// </summary>
public sealed partial class ClaimPipeline : IClaimPipeline
{
    private readonly IResourceApi _api;
    private readonly DeviceInventory _inventory;
    private readonly ISlicePublication _publication;
    private readonly CdiSpecWriter _cdi;
    private readonly ClaimJournal _journal;
    private readonly DeviceScrub _scrubs;
    private readonly PipelineStartup _startup;
    private readonly PipelineContext _context;
    private readonly ICrashInjector _crash;
    private readonly OpaqueConfigResolver _configs;
    private readonly TimeProvider _time;
    private readonly ILogger<ClaimPipeline> _logger;
    private readonly MigInstanceLocator? _migInstances;
    private readonly MigInstanceLifecycle? _migLifecycle;
    private readonly KeyedLock _locks = new();
    private readonly Counter _prepares;
    private readonly Counter _unprepares;
    private readonly Counter _rejections;
    private readonly Histogram _prepareDuration;
    private readonly Histogram _unprepareDuration;

    public ClaimPipeline(
        IResourceApi api,
        IGpuConfigValidator validator,
        DeviceInventory inventory,
        ISlicePublication publication,
        CdiSpecWriter cdi,
        ClaimJournal journal,
        DeviceScrub scrubs,
        PipelineStartup startup,
        PipelineContext context,
        ICrashInjector crash,
        MetricsRegistry metrics,
        TimeProvider time,
        ILogger<ClaimPipeline> logger,
        MigInstanceLocator? migInstances = null,
        MigInstanceLifecycle? migLifecycle = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(metrics);
        _api = api;
        _inventory = inventory;
        _publication = publication;
        _cdi = cdi;
        _journal = journal;
        _scrubs = scrubs;
        _startup = startup;
        _context = context;
        _crash = crash;
        _time = time;
        _logger = logger;
        _migInstances = migInstances;
        _migLifecycle = migLifecycle;
        _configs = new OpaqueConfigResolver(validator, context.Plugin.DriverName);
        _prepares = metrics.Counter("securedra_prepare_total", "Claims prepared, by outcome (prepared, idempotent, error).", "outcome");
        _unprepares = metrics.Counter("securedra_unprepare_total", "Claims unprepared, by outcome (released, withdrawn, unknown, error).", "outcome");
        _rejections = metrics.Counter("securedra_config_rejections_total", "Opaque configs rejected at Prepare, by field.", "reason");
        _prepareDuration = metrics.Histogram("securedra_prepare_duration_seconds", "Duration of one claim's Prepare.", MetricsRegistry.LatencyBuckets);
        _unprepareDuration = metrics.Histogram("securedra_unprepare_duration_seconds", "Duration of one claim's Unprepare, scrub included.", MetricsRegistry.LatencyBuckets);
    }

    public async Task<IReadOnlyDictionary<string, ClaimPrepareResult>> PrepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var distinct = Distinct(claims);
        if (distinct.Count == 0)
        {
            return new Dictionary<string, ClaimPrepareResult>(StringComparer.Ordinal);
        }

        var startError = await StartupErrorAsync(cancellationToken).ConfigureAwait(false);
        if (startError is not null)
        {
            return distinct.ToDictionary(c => c.Uid, _ => ClaimPrepareResult.Failed(startError), StringComparer.Ordinal);
        }

        var results = await Task.WhenAll(distinct.Select(c => PrepareGuardedAsync(c, cancellationToken))).ConfigureAwait(false);
        return distinct.Zip(results).ToDictionary(p => p.First.Uid, p => p.Second, StringComparer.Ordinal);
    }

    public async Task<IReadOnlyDictionary<string, ClaimUnprepareResult>> UnprepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var distinct = Distinct(claims);
        if (distinct.Count == 0)
        {
            return new Dictionary<string, ClaimUnprepareResult>(StringComparer.Ordinal);
        }

        var startError = await StartupErrorAsync(cancellationToken).ConfigureAwait(false);
        if (startError is not null)
        {
            return distinct.ToDictionary(c => c.Uid, _ => new ClaimUnprepareResult(startError), StringComparer.Ordinal);
        }

        // One budget for the whole call: the kubelet gives up after 45 s.
        using var budget = new CancellationTokenSource(_context.Options.UnprepareBudget, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(budget.Token, cancellationToken);
        var results = await Task.WhenAll(distinct.Select(c => UnprepareGuardedAsync(c, linked.Token))).ConfigureAwait(false);
        return distinct.Zip(results).ToDictionary(p => p.First.Uid, p => p.Second, StringComparer.Ordinal);
    }

    private static List<ClaimRef> Distinct(IReadOnlyList<ClaimRef> claims) =>
        [.. claims.GroupBy(c => c.Uid, StringComparer.Ordinal).Select(g => g.First())];

    private async Task<string?> StartupErrorAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _startup.EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return "the kubelet plugin did not start: " + ex.Message;
        }
    }

    // ---------------------------------------------------------------- Prepare

    private async Task<ClaimPrepareResult> PrepareGuardedAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        ClaimPrepareResult result;
        try
        {
            (result, var outcome) = await PrepareOneAsync(claim, cancellationToken).ConfigureAwait(false);
            _prepares.Inc(outcome);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _prepares.Inc("error");
            var message = ex is OperationCanceledException ? "prepare was cancelled" : ex.Message;
            LogPrepareFailed(_logger, claim.Namespace, claim.Name, claim.Uid, message);
            result = ClaimPrepareResult.Failed(message);
        }

        _prepareDuration.Observe(_time.GetElapsedTime(started).TotalSeconds);
        return result;
    }

    /// <summary>
    /// One claim, top down: the checkpoint first (a retry answers from it), then the allocation, then
    /// reserve, record, CDI spec, record. Each step is explained where it is done.
    /// </summary>
    private async Task<(ClaimPrepareResult Result, string Outcome)> PrepareOneAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        RequireValidUid(claim);
        using var held = await _locks.AcquireAsync(claim.Uid, cancellationToken).ConfigureAwait(false);

        var already = await AnswerFromCheckpointAsync(claim).ConfigureAwait(false);
        if (already is not null)
        {
            return (already, "idempotent");
        }

        var allocation = await ReadAllocationAsync(claim, cancellationToken).ConfigureAwait(false);
        if (allocation.Gpus.Count == 0)
        {
            return (new ClaimPrepareResult([], null), "prepared");
        }

        var names = allocation.DeviceNames;
        Reserve(claim, names);
        var created = new List<string>(); // dynamic MIG placements that may have an instance now: cleaned, never simply released
        try
        {
            // PrepareStarted is recorded in memory only (a concurrent commit may still carry it to disk). It need not be
            // durable: until the Prepared commit below nothing reached the kubelet, and a restart removes every CDI spec
            // of ours that no Prepared claim owns and rolls back a PrepareStarted entry, so a crash before that commit
            // leaves the devices free either way. Saving this fsync'd write is a third of a single claim's Prepare time.
            // Dynamic MIG is the exception (CreateMigInstancesAsync): creating an instance changes the GPU.
            var entry = allocation.StartedEntry(claim);
            _journal.Put(claim.Uid, entry);
            _crash.At(CrashPoints.PrepareAfterCheckpointStarted);

            var gpus = await CreateMigInstancesAsync(claim, entry, allocation.Gpus, created, cancellationToken).ConfigureAwait(false);

            await _cdi.WriteAsync(claim.Uid, gpus, cancellationToken).ConfigureAwait(false);
            _crash.At(CrashPoints.PrepareAfterCdi);

            entry.State = ClaimCheckpointState.Prepared;
            entry.Prepared = allocation.Answer(claim.Uid, _cdi);
            _inventory.MarkPrepared(claim.Uid, names); // the devices' Prepared records travel in the same commit as the claim's
            _journal.Put(claim.Uid, entry);
            await _journal.CommitAsync(cancellationToken).ConfigureAwait(false);
            _crash.At(CrashPoints.PrepareAfterCheckpointPrepared);

            LogPrepared(_logger, claim.Namespace, claim.Name, claim.Uid, string.Join(",", names));
            return (new ClaimPrepareResult([.. entry.Prepared.Select(ToPreparedDevice)], null), "prepared");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            await RollBackAsync(claim.Uid, names, created).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Dynamic MIG: creates the instance of every placement the claim was allocated, in this order per placement: the
    /// intent durable in the checkpoint, the GPU and compute instance, their ids and MIG UUID durable. Returns the
    /// devices as containers receive them (the created instance's UUID and capability nodes in place of the
    /// placement's stand-in). <paramref name="created"/> collects the placements that may hold an instance from the
    /// moment the create is attempted, so a failure anywhere after cleans them (scrub, destroy) instead of releasing.
    /// </summary>
    private async Task<IReadOnlyList<GpuDevice>> CreateMigInstancesAsync(ClaimRef claim, CheckpointClaim entry, IReadOnlyList<GpuDevice> gpus, List<string> created, CancellationToken cancellationToken)
    {
        if (_context.Options.MigMode != MigMode.Dynamic || !gpus.Any(g => _inventory.IsPlacement(g.Name)))
        {
            return gpus;
        }

        var lifecycle = _migLifecycle ?? throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: no MIG instance lifecycle is registered");
        var locator = _migInstances ?? throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: no MIG instance locator is registered");
        var result = new List<GpuDevice>(gpus.Count);
        foreach (var gpu in gpus)
        {
            if (_inventory.FindPlacement(gpu.Name) is not { } placement)
            {
                result.Add(gpu);
                continue;
            }

            var device = entry.Devices.First(d => d.Name == gpu.Name);
            device.MigInstance = new CheckpointMigInstance { Parent = placement.Parent.Name, ProfileId = placement.Profile.Id, Start = placement.Placement.Start, Size = placement.Placement.Size };
            _journal.Put(claim.Uid, entry);
            await _journal.CommitAsync(cancellationToken).ConfigureAwait(false);
            _crash.At(CrashPoints.PrepareAfterMigIntent);

            (GpuDevice Parent, Nvml.Backends.Mig.MigInstance Instance) made;
            try
            {
                made = await lifecycle.CreateAsync(claim.Uid, gpu.Name, cancellationToken).ConfigureAwait(false);
            }
            catch (MigCreateException ex)
            {
                if (ex.LeftInstance)
                {
                    created.Add(gpu.Name);
                }

                throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: {ex.Message}", ex);
            }

            created.Add(gpu.Name);
            _crash.At(CrashPoints.PrepareAfterMigCreate);

            device.Uuid = made.Instance.Uuid!;
            device.MigInstance.GpuInstanceId = made.Instance.GpuInstanceId;
            device.MigInstance.ComputeInstanceId = made.Instance.ComputeInstances[0].Id;
            device.MigInstance.Uuid = made.Instance.Uuid;
            _journal.Put(claim.Uid, entry);
            await _journal.CommitAsync(cancellationToken).ConfigureAwait(false);
            _crash.At(CrashPoints.PrepareAfterMigRecorded);

            try
            {
                result.Add(await locator.ForContainerAsync(gpu.Name, made.Parent, made.Instance, cancellationToken).ConfigureAwait(false));
            }
            catch (InvalidOperationException ex)
            {
                throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: {ex.Message}", ex);
            }
        }

        return result;
    }

    /// <summary>
    /// What the checkpoint says about a claim being prepared: its earlier answer (the kubelet retried), a refusal
    /// (it is being released), or nothing (new, or a prepare that never answered, which is rolled back first).
    /// </summary>
    private async Task<ClaimPrepareResult?> AnswerFromCheckpointAsync(ClaimRef claim)
    {
        var recorded = _journal.Get(claim.Uid);
        switch (recorded?.State)
        {
            case ClaimCheckpointState.Prepared when recorded.Prepared is not null:
                return new ClaimPrepareResult([.. recorded.Prepared.Select(ToPreparedDevice)], null);
            case ClaimCheckpointState.UnprepareStarted or ClaimCheckpointState.ScrubFailed:
                throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name} ({claim.Uid}) is being released on this node; its devices await a verified scrub");
            case ClaimCheckpointState.PrepareStarted:
                await RollBackAsync(claim.Uid, recorded.Devices.Select(d => d.Name).ToList(), MigIntents(recorded)).ConfigureAwait(false);
                break;
        }

        return null;
    }

    /// <summary>
    /// The claim as the API server has it now, reduced to this node's part: its allocation results, their
    /// configs (validated; a rejection fails the claim and is counted by field) and the GPUs they name.
    /// </summary>
    private async Task<ClaimAllocation> ReadAllocationAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        var model = await _api.GetClaimAsync(claim.Namespace, claim.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name} not found");
        if (!string.Equals(model.Uid, claim.Uid, StringComparison.Ordinal))
        {
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name} was replaced: uid {model.Uid} != {claim.Uid}");
        }

        if (model.Allocation is null)
        {
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name} is not allocated");
        }

        var node = _context.Plugin.NodeName;
        var results = model.Allocation.Results
            .Where(r => r.Driver == _context.Plugin.DriverName && r.Pool == node)
            .ToList();
        if (results.Any(r => r.AdminAccess))
        {
            // Admin access would expose a device that may belong to another tenant, and releasing it would scrub under that tenant.
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: adminAccess is not supported by this driver");
        }

        var configs = _configs.Resolve(model.Allocation.Config, results);
        if (configs.Errors.Count > 0)
        {
            foreach (var error in configs.Errors)
            {
                _rejections.Inc(RejectionReason(error));
            }

            LogConfigRejected(_logger, claim.Namespace, claim.Name, claim.Uid, string.Join("; ", configs.Errors));
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: invalid opaque config: {string.Join("; ", configs.Errors)}");
        }

        var gpus = new List<GpuDevice>();
        foreach (var name in results.Select(r => r.Device).Distinct(StringComparer.Ordinal))
        {
            if (_inventory.IsPlacement(name))
            {
                gpus.Add(await MigDeviceAsync(claim, name, cancellationToken).ConfigureAwait(false));
                continue;
            }

            gpus.Add(_inventory.Find(name) ?? throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: device {name} does not exist on node {node}"));
        }

        return new ClaimAllocation(node, results, configs, gpus);
    }

    /// <summary>
    /// A MIG device as its container receives it. Static mode only: the instance exists and is used as it is. Dynamic
    /// placements fail closed until the instance lifecycle (create at placement, record, destroy after the scrub) is
    /// wired (docs/mig.md, "Not done").
    /// </summary>
    private async Task<GpuDevice> MigDeviceAsync(ClaimRef claim, string name, CancellationToken cancellationToken)
    {
        if (_context.Options.MigMode == MigMode.Dynamic && _migLifecycle is not null && _inventory.FindPlacement(name) is { } placement)
        {
            // No instance yet: a stand-in until CreateMigInstancesAsync creates it (after the reservation, never before).
            return placement.Parent with { Name = name, Uuid = "", MemoryBytes = placement.Profile.MemoryMiB * 1024L * 1024L, MigEnabled = false };
        }

        if (_context.Options.MigMode != MigMode.Static || _migInstances is null)
        {
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: device {name} is a MIG placement; preparing it needs --mig-mode static or dynamic");
        }

        try
        {
            return await _migInstances.ForContainerAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or GpuBackendException)
        {
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: {ex.Message}", ex);
        }
    }

    private void Reserve(ClaimRef claim, IReadOnlyList<string> deviceNames)
    {
        try
        {
            _inventory.Reserve(claim.Uid, deviceNames);
        }
        catch (DeviceReservationException ex)
        {
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Undoes a prepare that never answered the kubelet: no container saw the devices, so no scrub is needed, except
    /// under <paramref name="migCreated"/>: placements where this prepare created (or may have created) a MIG instance.
    /// Those go Dirty: the retry loop scrubs the instance and only then destroys it (an instance is never destroyed
    /// unscrubbed).
    /// </summary>
    private async Task RollBackAsync(string claimUid, IReadOnlyList<string> deviceNames, IReadOnlyCollection<string>? migCreated = null)
    {
        _cdi.Delete(claimUid);
        _journal.Remove(claimUid);

        // Any commit from here on carries both the removal and the devices' Clean (or Dirty) records.
        if (migCreated is { Count: > 0 })
        {
            _inventory.Abandon(claimUid, migCreated, $"prepare of claim {claimUid} created a MIG instance here and did not complete");
            LogPrepareAbandoned(_logger, claimUid, string.Join(",", migCreated));
        }

        _inventory.Release(claimUid, deviceNames);
        await _journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The placements of a recorded claim whose prepare may have created a MIG instance (dynamic MIG).</summary>
    private static List<string> MigIntents(CheckpointClaim entry) => [.. entry.Devices.Where(d => d.MigInstance is not null).Select(d => d.Name)];

    private static PreparedDevice ToPreparedDevice(CheckpointPreparedDevice d) =>
        new([.. d.RequestNames], d.PoolName, d.DeviceName, [.. d.CdiDeviceIds], d.ShareId);

    /// <summary>A bounded metric label: a known field name, else "other" (unknown-field errors name attacker-chosen keys).</summary>
    private static string RejectionReason(ValidationError error)
    {
        var last = error.Path.Split('.').LastOrDefault() ?? "";
        var bracket = last.IndexOf('[', StringComparison.Ordinal);
        if (bracket >= 0)
        {
            last = last[..bracket];
        }

        return last == OpaqueParametersField || GpuConfigSchema.IsField(last) ? last : "other";
    }

    /// <summary>The opaque config's wrapper field: errors about the parameters as a whole (size, JSON) end here.</summary>
    private const string OpaqueParametersField = "parameters";

    // ---------------------------------------------------------------- Unprepare

    private async Task<ClaimUnprepareResult> UnprepareGuardedAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        ClaimUnprepareResult result;
        try
        {
            (result, var outcome) = await UnprepareOneAsync(claim, cancellationToken).ConfigureAwait(false);
            _unprepares.Inc(outcome);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _unprepares.Inc("error");
            var message = ex is OperationCanceledException ? "unprepare ran out of time; the kubelet will call again" : ex.Message;
            LogUnprepareFailed(_logger, claim.Namespace, claim.Name, claim.Uid, message);
            result = new ClaimUnprepareResult(message);
        }

        _unprepareDuration.Observe(_time.GetElapsedTime(started).TotalSeconds);
        return result;
    }

    /// <summary>
    /// One claim, top down: the checkpoint first (a retry or a rollback answers from it), then record the
    /// release, scrub every device, record what stayed dirty, delete the CDI spec, and forget the claim.
    /// </summary>
    private async Task<(ClaimUnprepareResult Result, string Outcome)> UnprepareOneAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        RequireValidUid(claim);
        using var held = await _locks.AcquireAsync(claim.Uid, cancellationToken).ConfigureAwait(false);

        var entry = _journal.Get(claim.Uid);
        var already = await AnswerReleaseFromCheckpointAsync(claim, entry, cancellationToken).ConfigureAwait(false);
        if (already is not null)
        {
            return (ClaimUnprepareResult.Ok, already);
        }

        entry!.State = ClaimCheckpointState.UnprepareStarted;
        _journal.Put(claim.Uid, entry);
        _inventory.BeginRelease(claim.Uid, entry.Devices.Select(d => d.Name));
        await _journal.CommitAsync(cancellationToken).ConfigureAwait(false);
        _crash.At(CrashPoints.UnprepareAfterCheckpointStarted);

        var dirty = await ScrubAllAsync(claim.Uid, entry, cancellationToken).ConfigureAwait(false);
        _crash.At(CrashPoints.UnprepareAfterScrub);
        if (dirty.Count > 0)
        {
            await RecordScrubFailedAsync(claim.Uid, entry, dirty).ConfigureAwait(false);
        }

        _cdi.Delete(claim.Uid);
        _crash.At(CrashPoints.UnprepareAfterCdiDelete);

        if (dirty.Count == 0)
        {
            _journal.Remove(claim.Uid);
            await _journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            _crash.At(CrashPoints.UnprepareAfterCheckpointDone);
            LogReleased(_logger, claim.Namespace, claim.Name, claim.Uid);
            return (ClaimUnprepareResult.Ok, "released");
        }

        _crash.At(CrashPoints.UnprepareAfterCheckpointDone);
        await AwaitWithdrawalPublishedAsync(claim, dirty, cancellationToken).ConfigureAwait(false);
        return (ClaimUnprepareResult.Ok, "withdrawn");
    }

    /// <summary>
    /// The outcome label when the checkpoint already settles this release: an unknown claim, a prepare that
    /// never answered (rolled back), or an earlier release whose scrub failed (done once its withdrawal is
    /// published). Null when the claim is Prepared or mid-release: the release runs.
    /// </summary>
    private async Task<string?> AnswerReleaseFromCheckpointAsync(ClaimRef claim, CheckpointClaim? entry, CancellationToken cancellationToken)
    {
        switch (entry?.State)
        {
            case null:
                // With a valid checkpoint at start, every claim prepared on this node is in it: an unknown one never reached a container.
                if (_startup.StartedWithoutCheckpoint)
                {
                    await MarkUnknownClaimDevicesDirtyAsync(claim, cancellationToken).ConfigureAwait(false);
                }

                return "unknown";

            case ClaimCheckpointState.PrepareStarted:
                await RollBackAsync(claim.Uid, entry.Devices.Select(d => d.Name).ToList(), MigIntents(entry)).ConfigureAwait(false);
                return "released";

            case ClaimCheckpointState.ScrubFailed:
                // Released before, with dirty devices: succeed once their withdrawal is visible to the scheduler.
                _cdi.Delete(claim.Uid);
                await AwaitWithdrawalPublishedAsync(claim, entry.DirtyDevices ?? [], cancellationToken).ConfigureAwait(false);
                return "withdrawn";

            default:
                return null;
        }
    }

    /// <summary>Scrubs the claim's devices in parallel; returns those still dirty now (the retry loop may have cleaned one meanwhile).</summary>
    private async Task<List<string>> ScrubAllAsync(string claimUid, CheckpointClaim entry, CancellationToken cancellationToken)
    {
        // Scrubs get three quarters of the budget; the rest is for publishing a withdrawal if one fails.
        using var scrubDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        scrubDeadline.CancelAfter(_context.Options.UnprepareBudget * 0.75);
        var outcomes = await Task.WhenAll(entry.Devices.Select(d => _scrubs.ForReleaseAsync(claimUid, d.Name, scrubDeadline.Token))).ConfigureAwait(false);
        return [.. outcomes.Where(o => !o.Clean && _inventory.MemoryState(o.DeviceName) is DeviceState.Dirty).Select(o => o.DeviceName)];
    }

    /// <summary>
    /// The devices' Dirty records are in the journal already; this entry lets the kubelet's retries of this
    /// Unprepare wait for the withdrawal to be published. Durable before the CDI spec goes.
    /// </summary>
    private async Task RecordScrubFailedAsync(string claimUid, CheckpointClaim entry, List<string> dirty)
    {
        entry.State = ClaimCheckpointState.ScrubFailed;
        entry.DirtyDevices = dirty;
        entry.Prepared = null;
        _journal.Put(claimUid, entry);
        await _journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// The kubelet releases a claim this node has no record of (the checkpoint was lost or moved
    /// aside while the claim was in use): its container may have written to its GPUs after the
    /// start-up scrub. Every such GPU that no claim holds now is marked dirty, so it is offered
    /// again only after a verified scrub. Best effort: without the claim on the API server there is
    /// nothing to go on.
    /// </summary>
    private async Task MarkUnknownClaimDevicesDirtyAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        ResourceClaimModel? model;
        try
        {
            model = await _api.GetClaimAsync(claim.Namespace, claim.Name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
        {
            LogUnknownClaimUnchecked(_logger, claim.Namespace, claim.Name, claim.Uid, ex.Message);
            return;
        }

        if (model?.Allocation is null || !string.Equals(model.Uid, claim.Uid, StringComparison.Ordinal))
        {
            return;
        }

        var marked = new List<string>();
        foreach (var name in model.Allocation.Results.Where(r => r.Driver == _context.Plugin.DriverName && r.Pool == _context.Plugin.NodeName).Select(r => r.Device).Distinct(StringComparer.Ordinal))
        {
            if (_inventory.Get(name) is { State: DeviceState.Clean or DeviceState.Unknown })
            {
                try
                {
                    _inventory.Withdraw(name, WithdrawalReason.VramDirty, $"released by claim {claim.Uid}, which this node had no record of");
                    marked.Add(name);
                }
                catch (InvalidOperationException)
                {
                    // Reserved for another claim meanwhile: it was clean then, and that claim's release scrubs it.
                }
            }
        }

        if (marked.Count > 0)
        {
            await _journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            LogUnknownClaimDevicesDirty(_logger, claim.Namespace, claim.Name, claim.Uid, string.Join(",", marked));
        }
    }

    private async Task AwaitWithdrawalPublishedAsync(ClaimRef claim, IReadOnlyList<string> dirty, CancellationToken cancellationToken)
    {
        var version = _inventory.Version;
        try
        {
            await _publication.WaitForPublishedAsync(version, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex)
        {
            throw new ClaimPreparationException(
                $"claim {claim.Namespace}/{claim.Name}: scrub of {string.Join(", ", dirty)} failed and the withdrawal could not be published to the API server in time; the devices stay withdrawn and the kubelet will call again", ex);
        }

        LogWithdrawn(_logger, claim.Namespace, claim.Name, claim.Uid, string.Join(",", dirty));
    }

    private static void RequireValidUid(ClaimRef claim)
    {
        if (!ClaimUid.IsValid(claim.Uid))
        {
            // Admission applies the same rule; this guard is for every other caller, since the UID names files.
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: uid is not 1-{ClaimUid.MaxLength} characters of [A-Za-z0-9-]");
        }
    }
}
