using Grpc.Core;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// Prepare and Unprepare in front of the vendor's plugin (docs/proxy-internals.md).
/// <para>Prepare: the claim is read and its UID checked; each allocated device of the proxied driver is found in the
/// vendor's slices and mapped to a GPU NVML knows; a GPU the inventory does not hold as proven clean is refused; opaque
/// configs for the driver are checked strictly; the GPUs are reserved; the batch goes to the vendor with a deadline;
/// the vendor's answer is checked (<see cref="VendorAnswerCheck"/>); an accepted answer is checkpointed and returned,
/// a refused one is the claim's error and the claim is unprepared at the vendor. A repeated Prepare returns the
/// checkpointed answer without asking the vendor again.</para>
/// <para>Unprepare: the vendor first (it stops its sharing daemons), then every GPU of the claim is scrubbed and
/// verified (<see cref="DeviceScrub"/>). A vendor error is returned as is and the GPUs stay held: nothing is
/// scrubbed and freed behind the vendor's back. A failed scrub leaves the GPU dirty (refused by the proxy) and
/// withdrawn through <see cref="ISlicePublication"/>; the retry loop returns it after a verified scrub.</para>
/// </summary>
public sealed partial class ProxyClaimPipeline : IClaimPipeline
{
    private readonly ProxyOptions _options;
    private readonly KubeletPluginOptions _plugin;
    private readonly IVendorSource _vendor;
    private readonly IResourceApi _api;
    private readonly DeviceInventory _inventory;
    private readonly ClaimJournal _journal;
    private readonly DeviceScrub _scrubs;
    private readonly PipelineStartup _startup;
    private readonly ISlicePublication _publication;
    private readonly IVendorConfigCheck _configs;
    private readonly ICrashInjector _crash;
    private readonly PipelineContext _context;
    private readonly KeyedLock _locks = new();
    private readonly ILogger<ProxyClaimPipeline> _logger;
    private readonly Counter _prepares;
    private readonly Counter _unprepares;
    private readonly Counter _refusals;

    public ProxyClaimPipeline(
        ProxyOptions options,
        KubeletPluginOptions plugin,
        IVendorSource vendor,
        IResourceApi api,
        DeviceInventory inventory,
        ClaimJournal journal,
        DeviceScrub scrubs,
        PipelineStartup startup,
        ISlicePublication publication,
        IVendorConfigCheck configs,
        PipelineContext context,
        ICrashInjector crash,
        MetricsRegistry metrics,
        ILogger<ProxyClaimPipeline> logger)
    {
        _crash = crash;
        ArgumentNullException.ThrowIfNull(metrics);
        _options = options;
        _plugin = plugin;
        _vendor = vendor;
        _api = api;
        _inventory = inventory;
        _journal = journal;
        _scrubs = scrubs;
        _startup = startup;
        _publication = publication;
        _configs = configs;
        _context = context;
        _logger = logger;
        _prepares = metrics.Counter("securedra_proxy_prepare_total", "Claims the proxy prepared, by outcome.", "outcome");
        _unprepares = metrics.Counter("securedra_proxy_unprepare_total", "Claims the proxy released, by outcome.", "outcome");
        _refusals = metrics.Counter("securedra_proxy_vendor_answer_refusals_total", "Vendor answers the proxy refused, by operation.", "operation");
    }

    /// <summary>The API server's own limit on allocation results per claim.</summary>
    public const int MaxDevicesPerClaim = 32;

    private string Driver => _options.VendorDriverName;

    // ---------------------------------------------------------------- Prepare

    public async Task<IReadOnlyDictionary<string, ClaimPrepareResult>> PrepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        await _startup.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        var results = new Dictionary<string, ClaimPrepareResult>(StringComparer.Ordinal);
        var locks = new List<IDisposable>();
        try
        {
            var pending = new List<PendingClaim>();
            // Locks in UID order: two batches naming the same claims cannot wait on each other.
            foreach (var claim in claims.DistinctBy(c => c.Uid).OrderBy(c => c.Uid, StringComparer.Ordinal))
            {
                locks.Add(await _locks.AcquireAsync(claim.Uid, cancellationToken).ConfigureAwait(false));
                if (_journal.Get(claim.Uid) is { State: ClaimCheckpointState.Prepared, Prepared: { } answer })
                {
                    results[claim.Uid] = new ClaimPrepareResult([.. answer.Select(ToPreparedDevice)], null); // idempotent
                    _prepares.Inc("repeated");
                    continue;
                }

                try
                {
                    pending.Add(await ReserveAsync(claim, cancellationToken).ConfigureAwait(false));
                }
                catch (ClaimPreparationException ex)
                {
                    results[claim.Uid] = Fail(claim, ex.Message, "refused");
                }
            }

            if (pending.Count > 0)
            {
                await ForwardPrepareAsync(pending, results, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var held in locks)
            {
                held.Dispose();
            }
        }

        return results;
    }

    private sealed record PendingClaim(ClaimRef Claim, IReadOnlyList<AllocatedDevice> Allocated, IReadOnlyList<string> Gpus);

    /// <summary>Everything the proxy checks before the vendor hears of the claim; ends with the GPUs reserved.</summary>
    private async Task<PendingClaim> ReserveAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        if (!ClaimUid.IsValid(claim.Uid))
        {
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: uid is not 1-{ClaimUid.MaxLength} characters of [A-Za-z0-9-]");
        }

        var fetched = await AllocatedClaim.FetchAsync(_api, claim, cancellationToken).ConfigureAwait(false);
        var allocated = fetched.ResultsOf(Driver).Select(r => new AllocatedDevice(r.Pool, r.Device)).Distinct().ToList();
        if (allocated.Count == 0)
        {
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name} has no device of driver {Driver}");
        }

        if (allocated.Count > MaxDevicesPerClaim)
        {
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: {allocated.Count} devices of driver {Driver} exceed the limit of {MaxDevicesPerClaim}");
        }

        CheckConfigs(claim, fetched.Allocation.Config);
        var slices = await _api.ListSlicesAsync(Driver, _plugin.NodeName, cancellationToken).ConfigureAwait(false);
        var gpus = _inventory.Snapshot().Devices.Select(d => d.Device).ToList();
        var names = new List<string>();
        foreach (var device in allocated)
        {
            var gpu = VendorDeviceMap.Map(device, slices, gpus, Driver, out var error)
                ?? throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: {error}");
            if (!names.Contains(gpu.Name, StringComparer.Ordinal))
            {
                names.Add(gpu.Name);
            }
        }

        try
        {
            _inventory.Reserve(claim.Uid, names);
        }
        catch (DeviceReservationException ex)
        {
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: {ex.Message}");
        }

        // In memory only: nothing reached the kubelet yet, and a restart rolls a PrepareStarted claim back.
        _journal.Put(claim.Uid, new CheckpointClaim
        {
            Namespace = claim.Namespace,
            Name = claim.Name,
            State = ClaimCheckpointState.PrepareStarted,
            Devices = [.. names.Select(n => new CheckpointDevice { Name = n, Uuid = _inventory.Find(n)?.Uuid ?? "" })],
        });
        return new PendingClaim(claim, allocated, names);
    }

    private void CheckConfigs(ClaimRef claim, IReadOnlyList<ClaimConfig> configs)
    {
        for (var i = 0; i < configs.Count; i++)
        {
            var config = configs[i];
            if (config.OpaqueDriver != Driver)
            {
                continue; // the vendor ignores configs addressed to other drivers
            }

            var errors = _configs.Check(config.OpaqueParametersJson ?? "", $"status.allocation.devices.config[{i}].opaque.parameters");
            if (errors.Count > 0)
            {
                LogConfigRejected(claim.Namespace, claim.Name, claim.Uid, string.Join("; ", errors));
                throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: {string.Join("; ", errors.Take(4))}");
            }
        }
    }

    private async Task ForwardPrepareAsync(List<PendingClaim> pending, Dictionary<string, ClaimPrepareResult> results, CancellationToken cancellationToken)
    {
        var vendor = _vendor.Current;
        IReadOnlyDictionary<string, VendorClaimAnswer>? answers = null;
        string? callError = null;
        if (vendor is null)
        {
            callError = $"vendor plugin {Driver} is not connected";
        }
        else
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_options.VendorCallTimeout);
            try
            {
                answers = await vendor.PrepareAsync([.. pending.Select(p => p.Claim)], deadline.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when ((ex is OperationCanceledException or RpcException) && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                callError = $"vendor Prepare gave no answer within {_options.VendorCallTimeout.TotalSeconds} s";
            }
            catch (RpcException ex)
            {
                callError = $"vendor Prepare failed: {ex.StatusCode}: {VendorPluginInfoCheck.Clip(ex.Status.Detail)}";
            }
        }

        _crash.At(ProxyCrashPoints.PrepareAfterVendor);
        if (answers is not null)
        {
            var requested = pending.Select(p => p.Claim.Uid).ToHashSet(StringComparer.Ordinal);
            foreach (var extra in answers.Keys.Where(k => !requested.Contains(k)).Take(8))
            {
                _refusals.Inc("prepare");
                LogUnrequestedAnswer(VendorPluginInfoCheck.Clip(extra));
            }
        }

        var undo = new List<ClaimRef>();
        foreach (var p in pending)
        {
            var error = callError ?? VendorAnswerCheck.Check(p.Claim, p.Allocated, answers!.GetValueOrDefault(p.Claim.Uid), Driver, _options.MaxCdiIdsPerDevice);
            if (error is not null)
            {
                if (callError is null && answers!.TryGetValue(p.Claim.Uid, out var a) && string.IsNullOrEmpty(a.Error))
                {
                    _refusals.Inc("prepare");
                }

                // The vendor may have prepared it (or may, after a timeout): release it there so it frees its own state.
                if (vendor is not null)
                {
                    undo.Add(p.Claim);
                }

                await RollBackAsync(p).ConfigureAwait(false);
                results[p.Claim.Uid] = Fail(p.Claim, error, "vendor_refused");
                continue;
            }

            var answer = answers![p.Claim.Uid];
            var entry = _journal.Get(p.Claim.Uid)!;
            entry.State = ClaimCheckpointState.Prepared;
            entry.Prepared = [.. answer.Devices.Select(d => new CheckpointPreparedDevice
            {
                RequestNames = [.. d.RequestNames],
                PoolName = d.PoolName,
                DeviceName = d.DeviceName,
                CdiDeviceIds = [.. d.CdiDeviceIds],
                ShareId = d.ShareId,
            })];
            _inventory.MarkPrepared(p.Claim.Uid, p.Gpus);
            _journal.Put(p.Claim.Uid, entry);
            results[p.Claim.Uid] = new ClaimPrepareResult(answer.Devices, null);
        }

        // One durable commit for the batch, before any answer reaches the kubelet.
        await _journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        _crash.At(CrashPoints.PrepareAfterCheckpointPrepared);
        foreach (var p in pending.Where(p => results[p.Claim.Uid].Error is null))
        {
            _prepares.Inc("prepared");
            LogPrepared(p.Claim.Namespace, p.Claim.Name, p.Claim.Uid, string.Join(",", p.Gpus));
        }

        if (undo.Count > 0)
        {
            await UnprepareAtVendorQuietlyAsync(vendor!, undo).ConfigureAwait(false);
        }
    }

    private async Task UnprepareAtVendorQuietlyAsync(IVendorDraClient vendor, List<ClaimRef> claims)
    {
        using var deadline = new CancellationTokenSource(_options.VendorCallTimeout);
        try
        {
            var answers = await vendor.UnprepareAsync(claims, deadline.Token).ConfigureAwait(false);
            foreach (var claim in claims.Where(c => answers.GetValueOrDefault(c.Uid) is { Length: > 0 }))
            {
                LogUndoFailed(claim.Uid, VendorPluginInfoCheck.Clip(answers[claim.Uid]));
            }
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException)
        {
            LogUndoFailed(string.Join(",", claims.Select(c => c.Uid)), ex.Message);
        }
    }

    private async Task RollBackAsync(PendingClaim p)
    {
        _journal.Remove(p.Claim.Uid);
        _inventory.Release(p.Claim.Uid, p.Gpus);
        await _journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private ClaimPrepareResult Fail(ClaimRef claim, string error, string outcome)
    {
        _prepares.Inc(outcome);
        LogPrepareFailed(claim.Namespace, claim.Name, claim.Uid, error);
        return ClaimPrepareResult.Failed(error);
    }

    private static PreparedDevice ToPreparedDevice(CheckpointPreparedDevice d) =>
        new([.. d.RequestNames], d.PoolName, d.DeviceName, [.. d.CdiDeviceIds], d.ShareId);

    // ---------------------------------------------------------------- Unprepare

    public async Task<IReadOnlyDictionary<string, ClaimUnprepareResult>> UnprepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        await _startup.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        var results = new Dictionary<string, ClaimUnprepareResult>(StringComparer.Ordinal);
        var outcomes = await Task.WhenAll(claims.DistinctBy(c => c.Uid).Select(async c => (c.Uid, await UnprepareGuardedAsync(c, cancellationToken).ConfigureAwait(false)))).ConfigureAwait(false);
        foreach (var (uid, result) in outcomes)
        {
            results[uid] = result;
        }

        return results;
    }

    private async Task<ClaimUnprepareResult> UnprepareGuardedAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        try
        {
            var (result, outcome) = await UnprepareOneAsync(claim, cancellationToken).ConfigureAwait(false);
            _unprepares.Inc(outcome);
            return result;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _unprepares.Inc("error");
            var message = ex is OperationCanceledException ? "unprepare ran out of time; the kubelet will call again" : ex.Message;
            LogUnprepareFailed(claim.Namespace, claim.Name, claim.Uid, message);
            return new ClaimUnprepareResult(message);
        }
    }

    private async Task<(ClaimUnprepareResult Result, string Outcome)> UnprepareOneAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        if (!ClaimUid.IsValid(claim.Uid))
        {
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: uid is not 1-{ClaimUid.MaxLength} characters of [A-Za-z0-9-]");
        }

        using var held = await _locks.AcquireAsync(claim.Uid, cancellationToken).ConfigureAwait(false);
        var entry = _journal.Get(claim.Uid);

        // The vendor first, whatever the proxy knows: it may hold the claim even when the proxy does not (its own state
        // outlived the proxy's), and it must stop its sharing daemons before the scrub.
        var vendorError = await UnprepareAtVendorAsync(claim, cancellationToken).ConfigureAwait(false);
        if (vendorError is not null)
        {
            // Not scrubbed and freed behind the vendor's back: the GPUs stay held until the vendor lets go.
            return (new ClaimUnprepareResult(vendorError), "vendor_error");
        }

        _crash.At(ProxyCrashPoints.UnprepareAfterVendor);
        if (entry is null)
        {
            return (ClaimUnprepareResult.Ok, "unknown");
        }

        switch (entry.State)
        {
            case ClaimCheckpointState.PrepareStarted:
                _journal.Remove(claim.Uid);
                _inventory.Release(claim.Uid, entry.Devices.Select(d => d.Name));
                await _journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                return (ClaimUnprepareResult.Ok, "released");

            case ClaimCheckpointState.ScrubFailed:
                await AwaitWithdrawalAsync(claim, entry.DirtyDevices ?? [], cancellationToken).ConfigureAwait(false);
                return (ClaimUnprepareResult.Ok, "withdrawn");
        }

        if (entry.State != ClaimCheckpointState.UnprepareStarted)
        {
            entry.State = ClaimCheckpointState.UnprepareStarted;
            _journal.Put(claim.Uid, entry);
            _inventory.BeginRelease(claim.Uid, entry.Devices.Select(d => d.Name));
            await _journal.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        _crash.At(CrashPoints.UnprepareAfterCheckpointStarted);

        using var scrubDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        scrubDeadline.CancelAfter(_context.Options.UnprepareBudget * 0.75);
        var outcomes = await Task.WhenAll(entry.Devices.Select(d => _scrubs.ForReleaseAsync(claim.Uid, d.Name, scrubDeadline.Token))).ConfigureAwait(false);
        _crash.At(CrashPoints.UnprepareAfterScrub);
        var dirty = outcomes.Where(o => !o.Clean && _inventory.Get(o.DeviceName)?.State is DeviceState.Dirty).Select(o => o.DeviceName).ToList();
        if (dirty.Count == 0)
        {
            _journal.Remove(claim.Uid);
            await _journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            _crash.At(CrashPoints.UnprepareAfterCheckpointDone);
            LogReleased(claim.Namespace, claim.Name, claim.Uid);
            return (ClaimUnprepareResult.Ok, "released");
        }

        entry.State = ClaimCheckpointState.ScrubFailed;
        entry.DirtyDevices = dirty;
        entry.Prepared = null;
        _journal.Put(claim.Uid, entry);
        await _journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        await AwaitWithdrawalAsync(claim, dirty, cancellationToken).ConfigureAwait(false);
        return (ClaimUnprepareResult.Ok, "withdrawn");
    }

    /// <returns>Null when the vendor released the claim (or never knew it); else the error for the kubelet.</returns>
    private async Task<string?> UnprepareAtVendorAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        var vendor = _vendor.Current;
        if (vendor is null)
        {
            return $"vendor plugin {Driver} is not connected; the claim's GPUs stay held until it releases them";
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.VendorCallTimeout);
        try
        {
            var answers = await vendor.UnprepareAsync([claim], deadline.Token).ConfigureAwait(false);
            if (!answers.TryGetValue(claim.Uid, out var error))
            {
                _refusals.Inc("unprepare");
                return "vendor Unprepare: no entry for this claim";
            }

            return error is { Length: > 0 } ? "vendor: " + VendorPluginInfoCheck.Clip(error) : null;
        }
        catch (Exception ex) when ((ex is OperationCanceledException or RpcException) && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return $"vendor Unprepare gave no answer within {_options.VendorCallTimeout.TotalSeconds} s";
        }
        catch (RpcException ex)
        {
            return $"vendor Unprepare failed: {ex.StatusCode}: {VendorPluginInfoCheck.Clip(ex.Status.Detail)}";
        }
    }

    private async Task AwaitWithdrawalAsync(ClaimRef claim, IReadOnlyList<string> dirty, CancellationToken cancellationToken)
    {
        try
        {
            await _publication.WaitForPublishedAsync(_inventory.Version, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex)
        {
            throw new ClaimPreparationException(
                $"claim {claim.Namespace}/{claim.Name}: scrub of {string.Join(", ", dirty)} failed and the withdrawal could not be published in time; the proxy refuses the devices and the kubelet will call again", ex);
        }

        LogWithdrawn(claim.Namespace, claim.Name, claim.Uid, string.Join(",", dirty));
    }
}
