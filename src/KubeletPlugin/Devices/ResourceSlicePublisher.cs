using System.Globalization;
using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Keeps this node's ResourceSlices equal to the rendered inventory: one pool named after the
/// node, slices of at most the version's device limit, <c>pool.generation</c> bumped on every
/// change, obsolete slices deleted first, slices the kubelet wiped re-created. On every inventory
/// change it renders, unless nothing it renders from changed (<see cref="SliceRenderInputs"/>), and
/// reconciles against a fresh LIST when that rendering differs from what the last LIST found or
/// wrote, and every <see cref="ClaimPipelineOptions.SliceResyncInterval"/> whatever changed; it writes nothing when the listed slices already match, and retries failures
/// with exponential backoff and jitter. <see cref="WaitForPublishedAsync"/> tells Unprepare when a withdrawal is
/// visible to the scheduler.
/// </summary>
public sealed partial class ResourceSlicePublisher : BackgroundService, ISlicePublication
{
    private readonly IResourceApi _api;
    private readonly IKubeApiClient _kube;
    private readonly DeviceInventory _inventory;
    private readonly SliceDeviceRenderer _renderer;
    private readonly PipelineContext _context;
    private readonly PipelineStartup _startup;
    private readonly TimeProvider _time;
    private readonly ILogger<ResourceSlicePublisher> _logger;
    private readonly ExponentialBackoff _backoff;
    private readonly NodeIdentity _nodeIdentity;
    private readonly IDevicePublicationGate? _gate;
    private readonly Counter _writes;
    private readonly Counter _errors;
    private readonly Gauge _publishedDevices;
    private readonly Counter _passes;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _reconcileGate = new(1, 1);
    private readonly VersionWatermark _published = new(0);
    private List<DesiredSlice>? _lastPublished; // what the last pass that listed found or wrote (under _reconcileGate)
    private SliceRenderInputs? _lastInputs; // what _lastPublished was rendered from (a whole-GPU node); null whenever _lastPublished is
    private long _lastFullPass; // TimeProvider timestamp of that pass; 0 before the first
    private OwnerReference? _owner;
    private SliceLimits? _limits;
    private bool _taintsRejected;
    private bool _countersRejected;
    private readonly IMigSlicePublication? _mig;

    public ResourceSlicePublisher(
        IResourceApi api,
        IKubeApiClient kube,
        DeviceInventory inventory,
        SliceDeviceRenderer renderer,
        PipelineContext context,
        PipelineStartup startup,
        MetricsRegistry metrics,
        TimeProvider time,
        ILogger<ResourceSlicePublisher> logger,
        NodeIdentity? nodeIdentity = null,
        IDevicePublicationGate? gate = null,
        IMigSlicePublication? mig = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _api = api;
        _kube = kube;
        _inventory = inventory;
        _renderer = renderer;
        _context = context;
        _startup = startup;
        _time = time;
        _logger = logger;
        _nodeIdentity = nodeIdentity ?? new NodeIdentity(kube, context);
        _gate = gate;
        _mig = mig;
        _backoff = new ExponentialBackoff(context.Options.PublishBackoffInitial, context.Options.PublishBackoffMax, new Random());
        _writes = metrics.Counter("securedra_resourceslice_writes_total", "ResourceSlice writes by operation (create, update, delete).", "op");
        _errors = metrics.Counter("securedra_resourceslice_sync_errors_total", "Failed ResourceSlice reconciliations.");
        _publishedDevices = metrics.Gauge("securedra_resourceslice_published_devices", "Devices published as schedulable (untainted) in this node's slices.");
        _passes = metrics.Counter(PassesMetric, "Slice publisher passes that ended without an error, by what they did: listed (compared with a fresh LIST, wrote what differed), same_rendering (rendered what the last listed pass published), same_inputs (not rendered: nothing it renders from changed).", "result");
    }

    public const string PassesMetric = "securedra_resourceslice_passes_total";

    public long PublishedVersion => _published.Value;

    /// <summary>True once the server dropped or refused device taints; withdrawn devices are then removed instead.</summary>
    public bool TaintsRejected
    {
        get { lock (_lock) { return _taintsRejected; } }
    }

    public Task WaitForPublishedAsync(long inventoryVersion, CancellationToken cancellationToken) =>
        _published.WaitForAsync(inventoryVersion, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _startup.WaitUntilReadyAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Startup failed (e.g. corrupt checkpoint): publishing nothing is the fail-closed answer.
            LogNotPublishing(_logger, ex.Message);
            return;
        }

        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var seen = _inventory.Version;
            var gateChanged = _gate?.Changed; // taken before the pass reads the gate, like the version
            TimeSpan wait;
            try
            {
                // Woken by an inventory change before the resync is due: a pass whose rendering equals what the last
                // full pass published needs no LIST (see ReconcileCoreAsync). The resync itself always lists.
                var lastFull = Volatile.Read(ref _lastFullPass);
                await ReconcileAsync(skipWhenUnchanged: lastFull != 0 && _time.GetElapsedTime(lastFull) < ResyncInterval, stoppingToken).ConfigureAwait(false);
                failures = 0;
                // Due one interval after the last pass that listed, however many passes skipped since.
                var full = Volatile.Read(ref _lastFullPass);
                var due = full == 0 ? ResyncInterval : ResyncInterval - _time.GetElapsedTime(full);
                wait = due > TimeSpan.Zero ? due : TimeSpan.Zero;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failures++;
                _errors.Inc();
                wait = _backoff.Delay(failures);
                LogReconcileFailed(_logger, ex, failures, wait.TotalMilliseconds);
                try
                {
                    // Backoff is not cut short by inventory changes: a down API server must not be hammered.
                    await Task.Delay(wait, _time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            await (gateChanged is not null
                ? ChangeOrTimeout.WaitAsync(wait, _time, stoppingToken, t => _inventory.WaitForChangeAsync(seen, t), gateChanged.WaitAsync)
                : ChangeOrTimeout.WaitAsync(wait, _time, stoppingToken, t => _inventory.WaitForChangeAsync(seen, t))).ConfigureAwait(false);
        }
    }

    /// <summary>One reconciliation against a fresh list; returns the number of writes. Throws on API errors.</summary>
    public Task<int> ReconcileOnceAsync(CancellationToken cancellationToken) => ReconcileAsync(skipWhenUnchanged: false, cancellationToken);

    private async Task<int> ReconcileAsync(bool skipWhenUnchanged, CancellationToken cancellationToken)
    {
        await _reconcileGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    return await ReconcileCoreAsync(skipWhenUnchanged && attempt == 0, cancellationToken).ConfigureAwait(false);
                }
                catch (TaintsNotAcceptedException) when (attempt < 2)
                {
                    // Re-render without taints (withdrawn devices are removed instead) or without counters (static fallback) right away.
                }
            }
        }
        finally
        {
            _reconcileGate.Release();
        }
    }

    private async Task<int> ReconcileCoreAsync(bool skipWhenUnchanged, CancellationToken cancellationToken)
    {
        var driver = _context.Plugin.DriverName;
        var node = _context.Plugin.NodeName;
        _limits ??= SliceLimits.ForKubernetesMinor(await ResolveKubernetesMinorAsync(cancellationToken).ConfigureAwait(false));
        _owner ??= await ResolveOwnerAsync(node, cancellationToken).ConfigureAwait(false);

        var snapshot = _inventory.Snapshot();
        var effect = SliceDeviceRenderer.TaintEffectFor(_context.Options.WithdrawalMode);
        if (effect is not null && (!_limits.TaintsInApi || TaintsRejected))
        {
            effect = null;
        }

        var publicationAllowed = _gate is not { PublicationAllowed: false };
        var inputs = snapshot.Partitions.Count == 0 ? SliceRenderInputs.Of(snapshot, effect, _limits, publicationAllowed, _renderer.RenderedAttributesState) : null;
        if (skipWhenUnchanged && inputs is not null && _lastInputs is { } lastInputs && inputs.SameAs(lastInputs))
        {
            // Rendering would give what the last listed pass published (see SliceRenderInputs), so it is published as
            // in the same-rendering case below, without spending the CPU on rendering and comparing every device.
            _passes.Inc("same_inputs");
            _published.Raise(snapshot.Version);
            return 0;
        }

        var devices = _renderer.Render(snapshot, effect, _limits.MaxTaintsPerDevice);
        IReadOnlyList<MigPartitionedGpu> partitioned = [];
        if (_mig is not null)
        {
            var partitions = _mig.Render(snapshot, devices, effect, _limits.MaxTaintsPerDevice, CountersUsable);
            devices = partitions.Others;
            partitioned = partitions.Partitioned;
        }

        if (!publicationAllowed)
        {
            // The node itself is not safe to hand GPUs out from (node hardening): keep the pool, empty.
            devices = [];
            partitioned = [];
        }

        var anyTaints = devices.Any(d => d.Taints.Count > 0) || partitioned.Any(p => p.Devices.Any(d => d.Taints.Count > 0));
        var perSlice = anyTaints ? _limits.MaxDevicesPerSliceWithTaints : _limits.MaxDevicesPerSlice;
        var anyCounters = partitioned.Count > 0;
        var desired = anyCounters
            ? MigSliceLayout.Layout(_limits.KubernetesMinor ?? MigSliceLayout.FirstSplitMinor, partitioned, devices, perSlice, _limits.MaxDevicesPerSliceWithTaints).ToList()
            : devices.Chunk(perSlice).Select(c => DesiredSlice.Of(c)).ToList();
        if (desired.Count == 0)
        {
            desired.Add(DesiredSlice.Of([])); // an empty pool is still a pool: publish one empty slice
        }

        if (skipWhenUnchanged && _lastPublished is { } last && SameDesired(last, desired))
        {
            // Most inventory changes do not change what is published: a claim reserving or preparing a device, a
            // scrub that leaves it clean. Rendering is in memory; the LIST (and the API server's work to answer it,
            // twice per Prepare) is what this saves. The slices the last full pass wrote or found are still what
            // this version renders, so this version is published unless someone else changed them since, which the
            // resync (at most one interval away) finds as it did before. A withdrawal always renders differently.
            _lastInputs = inputs;
            _passes.Inc("same_rendering");
            _published.Raise(snapshot.Version);
            return 0;
        }

        // Until this pass succeeds, nothing is known to be published: a failure after some writes must not let a later
        // pass whose inputs equal the old ones skip the LIST while the server holds this pass's partial writes.
        _lastPublished = null;
        _lastInputs = null;
        var listed = await _api.ListSlicesAsync(driver, node, cancellationToken).ConfigureAwait(false);
        var ours = listed.Where(s => s.Driver == driver && s.NodeName == node).ToList();
        var writes = 0;

        if (!UpToDate(ours, desired, node))
        {
            var generation = ours.Count == 0 ? 1 : ours.Max(s => s.PoolGeneration) + 1;
            var (reuse, obsolete) = Assign(ours, desired, node);

            foreach (var slice in obsolete)
            {
                await _api.DeleteSliceAsync(slice.Name!, cancellationToken).ConfigureAwait(false);
                _writes.Inc("delete");
                writes++;
            }

            for (var i = 0; i < desired.Count; i++)
            {
                var existing = reuse[i];
                var model = new ResourceSliceModel(
                    existing?.Name,
                    existing?.ResourceVersion,
                    driver,
                    node,
                    node,
                    generation,
                    desired.Count,
                    desired[i].Devices,
                    _owner,
                    existing is null ? $"{node}-{driver}-" : existing.GenerateName,
                    desired[i].SharedCounters);
                ResourceSliceModel written;
                try
                {
                    if (existing is null)
                    {
                        written = await _api.CreateSliceAsync(model, cancellationToken).ConfigureAwait(false);
                        _writes.Inc("create");
                    }
                    else
                    {
                        written = await _api.UpdateSliceAsync(model, cancellationToken).ConfigureAwait(false);
                        _writes.Inc("update");
                    }
                }
                catch (KubeApiException ex) when (anyCounters && ex.StatusCode == HttpStatusCode.UnprocessableEntity)
                {
                    RejectCounters($"the API server refused a slice with partitionable devices: {ex.Message}");
                    throw new TaintsNotAcceptedException();
                }
                catch (KubeApiException ex) when (anyTaints && ex.StatusCode == HttpStatusCode.UnprocessableEntity)
                {
                    RejectTaints($"the API server refused a slice with device taints: {ex.Message}");
                    throw new TaintsNotAcceptedException();
                }

                writes++;
                if (desired[i].SharedCounters.Count > 0 && written.SharedCounters is not { Count: > 0 }
                    || desired[i].Devices.Any(d => d.ConsumesCounters is { Count: > 0 }) && !written.Devices.Any(d => d.ConsumesCounters is { Count: > 0 }))
                {
                    // DRAPartitionableDevices is off: the server dropped the fields silently (read back, as for taints).
                    RejectCounters("the API server dropped sharedCounters/consumesCounters (feature gate DRAPartitionableDevices off)");
                    throw new TaintsNotAcceptedException();
                }

                if (anyTaints && desired[i].Devices.Any(d => d.Taints.Count > 0) && !written.Devices.Any(d => d.Taints.Count > 0))
                {
                    // The DRADeviceTaints gate is off: the server dropped the field silently.
                    RejectTaints("the API server dropped device taints (feature gate DRADeviceTaints off)");
                    throw new TaintsNotAcceptedException();
                }
            }

            LogPublished(_logger, node, generation, desired.Count, desired.Sum(d => d.Devices.Count), writes);
        }

        _publishedDevices.Set(desired.Sum(d => d.Devices.Count(x => x.Taints.Count == 0)));
        _lastPublished = desired;
        _lastInputs = inputs;
        _passes.Inc("listed");
        Volatile.Write(ref _lastFullPass, _time.GetTimestamp());
        _published.Raise(snapshot.Version);
        return writes;
    }

    /// <summary>How often a pass lists the slices whatever changed: the configured resync, at most 5 s while the Node's UID (the slices' owner) is unknown.</summary>
    private TimeSpan ResyncInterval => _owner is null
        ? TimeSpan.FromTicks(Math.Min(_context.Options.SliceResyncInterval.Ticks, TimeSpan.FromSeconds(5).Ticks))
        : _context.Options.SliceResyncInterval;

    /// <summary>The same slices in the same order (each compared as <see cref="Same"/> compares one with a listed slice).</summary>
    private static bool SameDesired(List<DesiredSlice> a, List<DesiredSlice> b) =>
        a.Count == b.Count && a.Zip(b).All(p => SliceDeviceComparer.SameDevices(p.First.Devices, p.Second.Devices) && SliceDeviceComparer.SameCounterSets(p.First.SharedCounters, p.Second.SharedCounters));

    private bool UpToDate(List<ResourceSliceModel> ours, List<DesiredSlice> desired, string node)
    {
        if (ours.Count != desired.Count)
        {
            return false;
        }

        var generation = ours[0].PoolGeneration;
        var unmatched = new List<DesiredSlice>(desired);
        foreach (var slice in ours)
        {
            if (slice.PoolName != node || slice.PoolGeneration != generation || slice.ResourceSliceCount != desired.Count
                || (_owner is not null && slice.Owner?.Uid != _owner.Uid))
            {
                return false;
            }

            var match = unmatched.FindIndex(d => Same(d, slice));
            if (match < 0)
            {
                return false;
            }

            unmatched.RemoveAt(match);
        }

        return true;
    }

    /// <summary>Reuses existing slices (same content first, then any of our pool) so a change costs updates, not create+delete.</summary>
    private static bool Same(DesiredSlice desired, ResourceSliceModel slice) =>
        SliceDeviceComparer.SameDevices(desired.Devices, slice.Devices) && SliceDeviceComparer.SameCounterSets(desired.SharedCounters, slice.SharedCounters);

    private static (ResourceSliceModel?[] Reuse, List<ResourceSliceModel> Obsolete) Assign(List<ResourceSliceModel> ours, List<DesiredSlice> desired, string node)
    {
        var reuse = new ResourceSliceModel?[desired.Count];
        var free = ours.Where(s => s.PoolName == node && s.Name is not null).ToList();
        for (var i = 0; i < desired.Count; i++)
        {
            var same = free.FindIndex(s => Same(desired[i], s));
            if (same >= 0)
            {
                reuse[i] = free[same];
                free.RemoveAt(same);
            }
        }

        for (var i = 0; i < desired.Count; i++)
        {
            if (reuse[i] is null && free.Count > 0)
            {
                reuse[i] = free[0];
                free.RemoveAt(0);
            }
        }

        var kept = reuse.Where(r => r is not null).Select(r => r!.Name).ToHashSet(StringComparer.Ordinal);
        var obsolete = ours.Where(s => s.Name is not null && !kept.Contains(s.Name)).ToList();
        return (reuse, obsolete);
    }

    /// <summary>False once the server dropped or refused counters; partitioned GPUs then fall back (see <see cref="IMigSlicePublication"/>).</summary>
    public bool CountersRejected
    {
        get { lock (_lock) { return _countersRejected; } }
    }

    /// <summary>Counter sets can be published: a version that has them, and the server has not dropped them.</summary>
    private bool CountersUsable => _limits?.KubernetesMinor is >= MigSliceLayout.FirstPartitionableMinor && !CountersRejected;

    private void RejectCounters(string why)
    {
        lock (_lock)
        {
            _countersRejected = true;
        }

        LogCountersRejected(_logger, why);
        _mig?.CountersRejected(why);
    }

    private void RejectTaints(string why)
    {
        lock (_lock)
        {
            _taintsRejected = true;
        }

        LogTaintsRejected(_logger, why);
    }

    private async Task<OwnerReference?> ResolveOwnerAsync(string node, CancellationToken cancellationToken)
    {
        try
        {
            var uid = await _nodeIdentity.ResolveUidAsync(cancellationToken).ConfigureAwait(false);
            if (uid is null)
            {
                LogNoOwner(_logger, node);
                return null;
            }

            return new OwnerReference("v1", "Node", node, uid, Controller: true);
        }
        catch (KubeApiException ex)
        {
            LogNoOwner(_logger, node + ": " + ex.Message);
            return null;
        }
    }

    private async Task<int?> ResolveKubernetesMinorAsync(CancellationToken cancellationToken)
    {
        if (_context.Options.KubernetesMinorVersion is { } configured)
        {
            return configured;
        }

        try
        {
            var version = await _kube.GetPathAsync("/version", cancellationToken).ConfigureAwait(false);
            var minor = version?["minor"]?.GetValue<string>();
            var digits = new string((minor ?? "").TakeWhile(char.IsAsciiDigit).ToArray());
            return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : null;
        }
        catch (Exception ex) when (ex is KubeApiException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    public override void Dispose()
    {
        _reconcileGate.Dispose();
        base.Dispose();
    }

    private sealed class TaintsNotAcceptedException : Exception;
}
