using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Scrubs withdrawn dirty devices (scrub failed, dirty after a crash, reboot or MIG mode, or
/// without proof) again with per-device exponential backoff, and returns each one to scheduling
/// once a scrub verifies (<see cref="DeviceScrub"/>: the inventory records it Clean, then offers
/// it). It re-reads the GPUs' MIG mode at least every <see cref="ClaimPipelineOptions.MigModeCheckInterval"/>.
/// </summary>
public sealed partial class ScrubRetryService(
    DeviceInventory inventory,
    DeviceScrub scrubs,
    MigModeMonitor mig,
    PipelineStartup startup,
    PipelineContext context,
    TimeProvider time,
    MetricsRegistry metrics,
    ILogger<ScrubRetryService> logger) : BackgroundService
{
    public const string PassesMetric = "securedra_scrub_retry_passes_total";

    // How often the loop looked at the dirty devices: a loop that keeps waking with nothing due shows here.
    private readonly Counter _passes = metrics.Counter(PassesMetric, "Passes of the scrub retry loop over the dirty devices (each may scrub those whose backoff passed).");

    private readonly Dictionary<string, (int Attempts, DateTimeOffset NextAttempt)> _schedule = new(StringComparer.Ordinal);

    // Placements whose scrub was due and did not run (another instance over their memory, a scrub already running):
    // left out of the plan (MigScrubPlan) while they stay dirty, so it never waits on a scrub that cannot happen.
    private readonly HashSet<string> _notRun = new(StringComparer.Ordinal);
    private readonly ExponentialBackoff _backoff = new(context.Options.ScrubRetryInitial, context.Options.ScrubRetryMax, new Random());

    // One pass at a time: the schedule is not a concurrent collection, and a pass started from outside the loop
    // (an operator command, a test) must not interleave with the loop's own.
    private readonly SemaphoreSlim _pass = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await startup.WaitUntilReadyAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return; // start-up failed or stopping: nothing to retry
        }

        long? lastMigRead = null; // TimeProvider timestamp of the loop's last MIG mode read
        while (!stoppingToken.IsCancellationRequested)
        {
            var seen = inventory.Version;

            // MIG mode can change with no other sign, so it is read every MigModeCheckInterval; a pass woken by an
            // inventory change before that does not read it again. Every claim's reserve, prepare and release is
            // such a change, and a read asks the backend for every GPU (NVML: several calls per GPU) on the node's
            // CPU while the claim's own work runs. A whole-GPU scrub reads MIG mode itself just before it runs.
            var readMig = lastMigRead is not { } last || time.GetElapsedTime(last) >= context.Options.MigModeCheckInterval;
            if (readMig)
            {
                lastMigRead = time.GetTimestamp();
            }

            var next = await RetryDueAsync(readMig, stoppingToken).ConfigureAwait(false);
            var wait = next is null ? context.Options.ScrubRetryMax : next.Value - time.GetUtcNow();
            var untilMigRead = context.Options.MigModeCheckInterval - time.GetElapsedTime(lastMigRead.GetValueOrDefault()); // set above on the first pass
            if (wait > untilMigRead)
            {
                wait = untilMigRead;
            }

            await ChangeOrTimeout.WaitAsync(wait, time, stoppingToken, t => inventory.WaitForChangeAsync(seen, t)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the GPUs' MIG mode, then scrubs every dirty device whose backoff has passed; returns when the next one is
    /// due (null: none waiting).
    /// </summary>
    public Task<DateTimeOffset?> RetryDueAsync(CancellationToken cancellationToken) => RetryDueAsync(readMigMode: true, cancellationToken);

    private async Task<DateTimeOffset?> RetryDueAsync(bool readMigMode, CancellationToken cancellationToken)
    {
        await _pass.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RetryDueCoreAsync(readMigMode, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pass.Release();
        }
    }

    private async Task<DateTimeOffset?> RetryDueCoreAsync(bool readMigMode, CancellationToken cancellationToken)
    {
        _passes.Inc();
        if (readMigMode)
        {
            await RefreshMigModeAsync(cancellationToken).ConfigureAwait(false);
        }

        var now = time.GetUtcNow();

        // A GPU in MIG mode is not retried: no scrub of it can verify until MIG mode is off. A partitioned one that lost
        // its proof meanwhile moves its doubt to its free memory slices, so each instance over them is proven on its own below.
        foreach (var gpu in inventory.Snapshot().Partitions.Select(p => p.Gpu.Name))
        {
            if (inventory.Get(gpu) is { State: DeviceState.Unknown or DeviceState.Dirty } state && state.Withdrawals.ContainsKey(WithdrawalReason.MigModeEnabled) && inventory.MoveDoubtToSlices(gpu))
            {
                LogDoubtMoved(logger, gpu);
            }
        }

        var snapshot = inventory.Snapshot();
        var dirty = snapshot.Devices
            .Where(d => d.State is DeviceState.Dirty or DeviceState.Unknown && !d.Withdrawals.ContainsKey(WithdrawalReason.MigModeEnabled))
            .Select(d => (d.Name, Device: (GpuDevice?)d.Device))
            // A dirty MIG instance is scrubbed as its instance (MIG mode is how its GPU is offered, not a reason to wait).
            // Largest first: in dynamic mode one verified scrub of a large (temporary) instance cleans every smaller placement in it.
            .Concat(snapshot.Partitions.SelectMany(p => p.Placements).Where(p => p.State == DeviceState.Dirty).OrderByDescending(p => p.Placement.Size).Select(p => (p.Name, Device: (GpuDevice?)null)))
            .ToList();
        foreach (var name in _schedule.Keys.Except(dirty.Select(d => d.Name)).ToList())
        {
            _schedule.Remove(name);
            _notRun.Remove(name);
        }

        // Which dirty placements of each partitioned GPU prove its dirty slices with the fewest scrubs; the others wait
        // while the plan covers their dirty memory. Placements that failed or did not run are left to their own backoff.
        var plans = new Dictionary<string, (PartitionSnapshot Partition, PlacementStateSnapshot Placement, IReadOnlySet<string> Plan)>(StringComparer.Ordinal);
        foreach (var partition in snapshot.Partitions)
        {
            var excluded = partition.Placements.Select(p => p.Name).Where(n => _notRun.Contains(n) || (_schedule.TryGetValue(n, out var e) && e.Attempts > 0)).ToHashSet(StringComparer.Ordinal);
            var plan = MigScrubPlan.Choose(partition, excluded);
            foreach (var placement in partition.Placements)
            {
                plans[placement.Name] = (partition, placement, plan);
            }
        }

        foreach (var device in dirty)
        {
            if (!_schedule.TryGetValue(device.Name, out var entry))
            {
                // First sight: Unprepare (or recovery) just found it dirty; give whatever held it (a
                // lingering process, a busy driver) the first backoff step before trying again.
                entry = (0, now + _backoff.Delay(1));
                _schedule[device.Name] = entry;
                continue;
            }

            // A placement that an overlapping placement's scrub cleaned earlier in this pass is not scrubbed again (in
            // dynamic MIG mode that would create and destroy a temporary instance for nothing).
            var outcome = entry.NextAttempt > now ? null
                : device.Device is { } gpu ? await scrubs.TryRunAsync(gpu, claimUid: null, ScrubTrigger.Retry, cancellationToken).ConfigureAwait(false)
                : inventory.GetPlacement(device.Name) is not { State: DeviceState.Dirty } ? null
                : plans.TryGetValue(device.Name, out var planned) && MigScrubPlan.LeftToPlan(planned.Placement, planned.Partition, planned.Plan) ? null
                : await ScrubPlacementAsync(device.Name, cancellationToken).ConfigureAwait(false);
            if (outcome is null)
            {
                // Not due, or due and not run (left to the plan, cleaned by an overlapping scrub earlier in this pass,
                // or unable to run now). A due time left in the past would make the loop's next wait zero and spin it
                // until some other entry came due: look again one first backoff step from now (the plan's own scrub
                // and any release end sooner and wake a pass that finds this placement clean or still covered).
                _schedule[device.Name] = entry.NextAttempt > now ? entry : (entry.Attempts, now + _backoff.Delay(1));
                continue;
            }

            if (outcome.Clean)
            {
                _schedule.Remove(device.Name);
                LogReturned(logger, device.Name, entry.Attempts + 1);
            }
            else
            {
                var attempts = entry.Attempts + 1;
                var delay = _backoff.Delay(attempts);
                _schedule[device.Name] = (attempts, time.GetUtcNow() + delay);
                LogStillDirty(logger, device.Name, attempts, outcome.Detail, delay.TotalSeconds);
            }
        }

        return _schedule.Count == 0 ? null : _schedule.Values.Min(e => e.NextAttempt);
    }

    private async Task<ScrubOutcome?> ScrubPlacementAsync(string name, CancellationToken cancellationToken)
    {
        var outcome = await scrubs.TryRunPlacementAsync(name, claimUid: null, ScrubTrigger.Retry, cancellationToken).ConfigureAwait(false);
        if (outcome is null)
        {
            _notRun.Add(name);
        }

        return outcome;
    }

    public override void Dispose()
    {
        _pass.Dispose();
        base.Dispose();
    }

    private async Task RefreshMigModeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await mig.RefreshAsync(null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            LogMigCheckFailed(logger, ex.Message);
        }
    }
}
