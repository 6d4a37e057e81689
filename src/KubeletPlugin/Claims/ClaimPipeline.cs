using Microsoft.Extensions.Logging;
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
/// <see cref="CrashPoints"/>), except that a Prepare writes its CDI spec and its Prepared commit at once
/// (<c>WritePreparedAsync</c> says why that is safe), and the checkpoint has one writer that batches concurrent commits.
/// One claim's failure is that claim's error, never the batch's.
/// </summary>
public sealed partial class ClaimPipeline : IClaimPipeline
{
    private readonly DeviceInventory _inventory;
    private readonly CdiSpecWriter _cdi;
    private readonly CdiSpecRestore _specs;
    private readonly ClaimJournal _journal;
    private readonly PipelineStartup _startup;
    private readonly PipelineContext _context;
    private readonly ICrashInjector _crash;
    private readonly ClaimAllocationReader _allocations;
    private readonly MigInstanceCreation _migCreation;
    private readonly PrepareRollback _rollback;
    private readonly UnknownClaimRelease _unknownClaims;
    private readonly ClaimRelease _release;
    private readonly TimeProvider _time;
    private readonly ILogger<ClaimPipeline> _logger;
    private readonly KeyedLock _locks = new();
    private readonly Counter _prepares;
    private readonly Counter _unprepares;
    private readonly Histogram _prepareDuration;
    private readonly Histogram _unprepareDuration;

    public ClaimPipeline(
        IResourceApi api,
        IGpuConfigValidator validator,
        DeviceInventory inventory,
        ISlicePublication publication,
        CdiSpecWriter cdi,
        CdiSpecRestore specs,
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
        _inventory = inventory;
        _cdi = cdi;
        _specs = specs;
        _journal = journal;
        _startup = startup;
        _context = context;
        _crash = crash;
        _time = time;
        _logger = logger;
        _prepares = metrics.Counter("securedra_prepare_total", "Claims prepared, by outcome (prepared, idempotent, error).", "outcome");
        _unprepares = metrics.Counter("securedra_unprepare_total", "Claims unprepared, by outcome (released, withdrawn, unknown, error).", "outcome");
        var rejections = metrics.Counter("securedra_config_rejections_total", "Opaque configs rejected at Prepare, by field.", "reason");
        _allocations = new ClaimAllocationReader(api, inventory, context, new OpaqueConfigResolver(validator, context.Plugin.DriverName), rejections, logger, migInstances, migLifecycle);
        _migCreation = new MigInstanceCreation(context, inventory, journal, crash, migInstances, migLifecycle);
        _rollback = new PrepareRollback(cdi, journal, inventory, logger);
        _unknownClaims = new UnknownClaimRelease(api, inventory, journal, context, logger);
        _release = new ClaimRelease(inventory, publication, cdi, journal, scrubs, context, logger);
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
    /// reserve, record, CDI spec and Prepared commit, answer. Each step is explained where it is done.
    /// </summary>
    private async Task<(ClaimPrepareResult Result, string Outcome)> PrepareOneAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        RequireValidUid(claim);
        using var held = await _locks.AcquireAsync(claim.Uid, cancellationToken).ConfigureAwait(false);

        var already = await AnswerFromCheckpointAsync(claim, cancellationToken).ConfigureAwait(false);
        if (already is not null)
        {
            return (already, "idempotent");
        }

        var allocation = await _allocations.ReadAsync(claim, cancellationToken).ConfigureAwait(false);
        if (allocation.Gpus.Count == 0)
        {
            return (new ClaimPrepareResult([], null), "prepared");
        }

        var names = allocation.DeviceNames;
        Reserve(claim, names);
        var created = new List<string>(); // dynamic MIG placements that may have an instance now: cleaned, never simply released
        try
        {
            var entry = RecordStarted(claim, allocation);
            var gpus = await _migCreation.CreateAsync(claim, entry, allocation.Gpus, created, cancellationToken).ConfigureAwait(false);
            await WritePreparedAsync(claim, allocation, entry, gpus, cancellationToken).ConfigureAwait(false);

            LogPrepared(_logger, claim.Namespace, claim.Name, claim.Uid, string.Join(",", names));
            return (new ClaimPrepareResult([.. entry.Prepared!.Select(ToPreparedDevice)], null), "prepared");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            await _rollback.RollBackAsync(claim.Uid, names, created).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// PrepareStarted is recorded in memory only (a concurrent commit may still carry it to disk). It need not be
    /// durable: until the Prepared commit nothing reached the kubelet, and a restart removes every CDI spec of ours
    /// that no Prepared claim owns and rolls back a PrepareStarted entry, so a crash before that commit leaves the
    /// devices free either way. Saving this fsync'd write is a third of a single claim's Prepare time. Dynamic MIG is
    /// the exception (MigInstanceCreation): creating an instance changes the GPU.
    /// </summary>
    private CheckpointClaim RecordStarted(ClaimRef claim, ClaimAllocation allocation)
    {
        var entry = allocation.StartedEntry(claim);
        _journal.Put(claim.Uid, entry);
        _crash.At(CrashPoints.PrepareAfterCheckpointStarted);
        return entry;
    }

    /// <summary>
    /// The claim's CDI spec and its Prepared commit, both durable before the kubelet is answered. Each is an fsync'd
    /// <see cref="AtomicFile"/> write, so they are written at the same time: a Prepare waits for about one instead of
    /// two. A crash between them leaves either a spec without a Prepared entry (removed at start-up as a leftover: the
    /// kubelet was never answered) or a Prepared entry without its spec (written again at start-up and before a retried
    /// Prepare is answered, <see cref="CdiSpecRestore"/>). MIG devices too: the entry records the instance the spec is
    /// built from (<see cref="CheckpointMigSpec"/>), and the rebuild finds that instance again and refuses any other.
    /// Dynamic MIG is as safe: its instance and ids were durable (MigInstanceCreation) before this, a crash does not
    /// destroy an instance, and a restart re-adopts it before the spec is rebuilt. A spec the checkpoint cannot
    /// rebuild is written first, as before; so is every spec while a crash point is armed, so crash tests can stop
    /// between them.
    /// </summary>
    private async Task WritePreparedAsync(ClaimRef claim, ClaimAllocation allocation, CheckpointClaim entry, IReadOnlyList<GpuDevice> gpus, CancellationToken cancellationToken)
    {
        entry.State = ClaimCheckpointState.Prepared;
        entry.Prepared = allocation.Answer(claim.Uid, _cdi);
        var overlap = !_crash.Armed && _specs.CanRebuild(entry, gpus);
        if (!overlap)
        {
            await _cdi.WriteAsync(claim.Uid, gpus, cancellationToken).ConfigureAwait(false);
            _crash.At(CrashPoints.PrepareAfterCdi);
        }

        _inventory.MarkPrepared(claim.Uid, allocation.DeviceNames); // the devices' Prepared records travel in the same commit as the claim's
        _journal.Put(claim.Uid, entry);
        if (overlap)
        {
            // The spec on a pool thread, the commit on this one: both fsyncs in flight at once.
            var spec = Task.Run(() => _cdi.WriteAsync(claim.Uid, gpus, cancellationToken), cancellationToken);
            var commit = _journal.CommitAsync(cancellationToken);
            await Task.WhenAll(spec, commit).ConfigureAwait(false);
        }
        else
        {
            await _journal.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        _crash.At(CrashPoints.PrepareAfterCheckpointPrepared);
    }

    /// <summary>
    /// What the checkpoint says about a claim being prepared: its earlier answer (the kubelet retried; its CDI spec is
    /// put back first if it went missing), a refusal (it is being released), or nothing (new, or a prepare that never
    /// answered, which is rolled back first).
    /// </summary>
    private async Task<ClaimPrepareResult?> AnswerFromCheckpointAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        var recorded = _journal.Get(claim.Uid);
        switch (recorded?.State)
        {
            case ClaimCheckpointState.Prepared when recorded.Prepared is not null:
                await _specs.EnsureExistsAsync(claim.Uid, recorded, cancellationToken).ConfigureAwait(false);
                return new ClaimPrepareResult([.. recorded.Prepared.Select(ToPreparedDevice)], null);
            case ClaimCheckpointState.UnprepareStarted or ClaimCheckpointState.ScrubFailed:
                throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name} ({claim.Uid}) is being released on this node; its devices await a verified scrub");
            case ClaimCheckpointState.PrepareStarted:
                await _rollback.RollBackAsync(claim.Uid, recorded).ConfigureAwait(false);
                break;
        }

        return null;
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

    private static PreparedDevice ToPreparedDevice(CheckpointPreparedDevice d) =>
        new([.. d.RequestNames], d.PoolName, d.DeviceName, [.. d.CdiDeviceIds], d.ShareId);

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
    /// release, scrub every device, record what stayed dirty, delete the CDI spec, and forget the claim or
    /// wait for its dirty devices' withdrawal to be published. The steps are <see cref="ClaimRelease"/>'s.
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

        await _release.RecordStartedAsync(claim.Uid, entry!, cancellationToken).ConfigureAwait(false);
        _crash.At(CrashPoints.UnprepareAfterCheckpointStarted);

        var dirty = await _release.ScrubAllAsync(claim.Uid, entry!, cancellationToken).ConfigureAwait(false);
        _crash.At(CrashPoints.UnprepareAfterScrub);
        if (dirty.Count > 0)
        {
            await _release.RecordScrubFailedAsync(claim.Uid, entry!, dirty).ConfigureAwait(false);
        }

        _release.DeleteCdiSpec(claim.Uid);
        _crash.At(CrashPoints.UnprepareAfterCdiDelete);

        if (dirty.Count > 0)
        {
            _crash.At(CrashPoints.UnprepareAfterCheckpointDone); // the ScrubFailed record above was this release's last write
            await _release.AwaitWithdrawalPublishedAsync(claim, dirty, cancellationToken).ConfigureAwait(false);
            return (ClaimUnprepareResult.Ok, "withdrawn");
        }

        await _release.ForgetAsync(claim.Uid).ConfigureAwait(false);
        _crash.At(CrashPoints.UnprepareAfterCheckpointDone);
        LogReleased(_logger, claim.Namespace, claim.Name, claim.Uid);
        return (ClaimUnprepareResult.Ok, "released");
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
                    await _unknownClaims.MarkDevicesDirtyAsync(claim, cancellationToken).ConfigureAwait(false);
                }

                return "unknown";

            case ClaimCheckpointState.PrepareStarted:
                await _rollback.RollBackAsync(claim.Uid, entry).ConfigureAwait(false);
                return "released";

            case ClaimCheckpointState.ScrubFailed:
                // Released before, with dirty devices: succeed once their withdrawal is visible to the scheduler.
                _release.DeleteCdiSpec(claim.Uid);
                await _release.AwaitWithdrawalPublishedAsync(claim, entry.DirtyDevices ?? [], cancellationToken).ConfigureAwait(false);
                return "withdrawn";

            default:
                return null;
        }
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
